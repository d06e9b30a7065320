"""Sign-in, sessions, who may open which route, and the browser's protections."""
