"""Children: registering a child, starting their journeys, each profile's entry form."""
