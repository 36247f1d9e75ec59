"""The data plane: what applications read (OFREP, flagd definitions), served from memory."""
