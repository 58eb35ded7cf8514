"""Operating a deployed service: smoke checks, load tests and warm-up, cluster status.

These modules talk to running things (model servers, the public route, the Kubernetes API);
the `mdeploy smoke|bench|warmup|status` commands are thin click wrappers around them.
"""
