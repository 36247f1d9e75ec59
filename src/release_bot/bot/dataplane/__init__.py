"""The data plane: what applications read, over OFREP and as flagd flag definitions."""
