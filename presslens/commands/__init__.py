"""The ``presslens`` commands, one module each; ``presslens.cli`` registers them."""
