"""Small widgets the tutor app is composed of."""
