"""The serve process: composition root, HTTP server, sweeper, settings and pipelines file."""
