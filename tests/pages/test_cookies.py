"""The cookie script escapes what it writes and expires the cookie on logout."""

from __future__ import annotations

from ui.cookies import cookie_script


def test_the_cookie_value_cannot_close_the_script() -> None:
    script = cookie_script("huddle_auth", 'a"b</script><script>alert(1)', 1_900_000_000.0)
    assert script.count("<script>") == 1 and script.count("</script>") == 1
    assert '\\"' in script and "\\u003c/script>" in script
    assert "expires=Sun, 17 Mar 2030" in script and "SameSite=Strict" in script


def test_logging_out_expires_the_cookie() -> None:
    script = cookie_script("huddle_auth", "", None)
    assert "huddle_auth=;" in script and "01 Jan 1970" in script
