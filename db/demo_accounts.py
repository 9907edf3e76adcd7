"""The demo company's one password, on its own: the login page shows it, and showing it must not load the
demo generator (db/demo.py, numpy and all) into every server that only logs people in."""

DEMO_PASSWORD = "huddle-demo"
