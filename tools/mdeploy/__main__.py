"""`python -m mdeploy` is the same as the `mdeploy` command."""

from mdeploy.cli import main

if __name__ == "__main__":
    main()
