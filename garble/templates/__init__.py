"""The HTML report's page skeleton, CSS and script (package data, read by ``garble.resources.read_template``)."""
