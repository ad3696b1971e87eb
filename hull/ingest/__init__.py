"""Reading entries from files: formats, records and per-row checks. Pure: no Django import."""
