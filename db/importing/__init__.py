"""Bringing CRM exports into Huddle: read, check every row, then write all of it or nothing."""
