"""The OPTIMADE v1.2 endpoint under /optimade/."""
