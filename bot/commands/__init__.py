"""One module per `farmhand` command, each with `main(args) -> int`."""
