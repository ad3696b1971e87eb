"""The application's one error type for the catalogue; pages and the API turn it into a clear message."""


class CatalogueError(Exception):
    """A request the catalogue cannot honour, with a message that names what is wrong."""
