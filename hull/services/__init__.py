"""Services: the functions that write to the catalogue."""
