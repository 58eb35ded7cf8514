"""mdeploy: author, check, render, promote and operate model services on Kubernetes."""

__version__ = "0.1.0"
