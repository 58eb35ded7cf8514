import re

from mdeploy.rules.base import Rule, env_blocks

# Variable names that carry credentials, and values that look like one whatever the name.
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)",
                          re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"(AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\."  # JWT
    r"|[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@)"  # URL with user:password@
)
# Values that are clearly not secrets even under a secret-looking name.
_PLACEHOLDER = re.compile(r"^(|true|false|none|null|/.*|\$\(.*\))$", re.IGNORECASE)


class LiteralSecret(Rule):
    id = "literal-secret"
    summary = ("No literal secrets in `env`: the file is in git for everyone to read. Reference a "
               "Kubernetes Secret with `secretEnv` instead.")
    bad = "env:\n  DB_PASSWORD: hunter2"
    good = "secretEnv:\n  DB_PASSWORD: {secret: ocr-db, key: password}"

    def check(self, ctx):
        for at, env in env_blocks(ctx.data):
            for name, value in env.items():
                value = str(value)
                if _SECRET_VALUE.search(value):
                    reason = "its value looks like a credential"
                elif _SECRET_NAME.search(name) and not _PLACEHOLDER.match(value.strip()):
                    reason = "its name says it holds a credential"
                else:
                    continue
                yield ctx.problem(at + (name,), f"env {name} looks like a literal secret ({reason}); move it "
                                  f"to secretEnv: {{{name}: {{secret: <name>, key: <key>}}}}", self)


RULE = LiteralSecret()
