"""The Python examples of the seed documents, each copied verbatim except its import line."""
