from mdeploy.rules.base import Rule
from mdeploy.services import application_name, cgi_object_name, model_object_name, namespace_name

# Service and Deployment names are DNS-1035 labels (63); a label value (app.kubernetes.io/instance)
# is at most 63; Helm refuses release names over 53 characters.
LABEL_MAX = 63
RELEASE_MAX = 53


class NameLength(Rule):
    id = "name-length"
    summary = ("Names derived from the service fit Kubernetes limits: namespace `<prefix><service>`, "
               "objects `<service>-cgi` and `<service>-<model>` (63 characters), Helm release and Argo CD "
               "Application `<service>-<env>` (53).")
    bad = "service: a-very-long-service-name-for-the-ranking-team\nmodels:\n  embedding-generator: {...}"
    good = "service: feed-rank\nmodels:\n  embedder: {...}"

    def check(self, ctx):
        service = ctx.data["service"]
        release = application_name(service, ctx.env)
        if len(release) > RELEASE_MAX:
            yield ctx.problem(("service",), f"Application/release name {release!r} is {len(release)} characters; "
                              f"Helm allows {RELEASE_MAX}: shorten the service name", self)
        if ctx.environment:
            namespace = namespace_name(ctx.environment["namespacePrefix"], service)
            if len(namespace) > LABEL_MAX:
                yield ctx.problem(("service",), f"namespace {namespace!r} is {len(namespace)} characters; "
                                  f"Kubernetes allows {LABEL_MAX}: shorten the service name", self)
        cgi = cgi_object_name(service)
        if len(cgi) > LABEL_MAX:
            yield ctx.problem(("service",), f"object name {cgi!r} is {len(cgi)} characters; "
                              f"Kubernetes allows {LABEL_MAX}: shorten the service name", self)
        for model in ctx.data.get("models") or {}:
            name = model_object_name(service, model)
            if len(name) > LABEL_MAX:
                yield ctx.problem(("models", model), f"object name {name!r} is {len(name)} characters; "
                                  f"Kubernetes allows {LABEL_MAX}: shorten the model key or the service name",
                                  self, key=True)


RULE = NameLength()
