from mdeploy.rules.base import Rule


class FileName(Rule):
    id = "file-name"
    summary = ("`service:` equals the file name: Argo CD names the Application after the file, the chart "
               "names objects after `service:`, and the two must agree.")
    bad = "# environments/gray/ocr.yaml\nservice: ocr-detect"
    good = "# environments/gray/ocr-detect.yaml (renamed with git mv)\nservice: ocr-detect"

    def check(self, ctx):
        if ctx.data["service"] != ctx.file_stem:
            yield ctx.problem(("service",), f"service {ctx.data['service']!r} does not match the file name "
                              f"{ctx.file_stem}.yaml; rename the file or change `service:`", self)


RULE = FileName()
