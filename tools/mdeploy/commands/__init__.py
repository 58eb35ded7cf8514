"""One module per `mdeploy` command; each is a thin click wrapper over pure functions."""
