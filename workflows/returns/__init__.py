"""Statutory returns: the English profile's SSDA903 export and its checks."""
