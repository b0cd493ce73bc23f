"""The ``thresher`` command line: thin commands over the library."""
