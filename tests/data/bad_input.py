"""Bad input the portal must answer in plain words: never a 500, never reflected raw,
never run as a template, nothing written (issue 9). Kept as data so every form, list
and filter is swept with the same corpus (tests/security/test_bad_input.py).

Values are `str`, or `bytes` for what is not valid UTF-8 (sent percent-encoded as is).
"""

XSS = "\"><img src=x onerror=alert(1)><script>alert(1)</script>' onmouseover='alert(1)"
# Rendered as a template, this would read "TPL1-800-…": the marker makes that visible.
TEMPLATE_MARKER = "TPL{{ SUPPORT_PHONE }}"

TEXT = {
    "xss": XSS,
    "template_var": TEMPLATE_MARKER,
    "template_tag": "{% x %}",
    "long": "A" * 10_000,
    "nul": "a\x00b",
    "invalid_utf8": b"\xff\xfe\xc3\x28",
    "emoji_rtl": "😀👨‍👩‍👧\u202eevil\u200f\u200b",
    "formula": "＝SUM(1)",
    "blank": "   ",
}
AMOUNTS = {"negative": "-5", "huge": "9" * 40, "fractional": "0.001", "exponent": "1e309"}
DATES = {
    "far_future": "9999-12-31",
    "impossible": "2023-02-30",
    "year_zero": "0000-01-01",
    "words": "yesterday",
}
PAGES = {"huge_page": "9" * 40, "negative_page": "-1"}
SORTS = {"sort_out_of_range": "999", "sort_garbage": "x.-.1"}

CORPUS = {**TEXT, **AMOUNTS, **DATES}
# For list filters, sort keys and page numbers: the worst of the text and the numbers.
WORST = {
    k: CORPUS[k] for k in ("xss", "nul", "invalid_utf8", "long", "far_future", "impossible", "huge")
}
LIST_PARAMS = {**PAGES, **SORTS, **{k: TEXT[k] for k in ("xss", "nul")}}

# Seen in a page, any of these means something typed came back raw (lower-cased body).
RAW_REFLECTIONS = ("<img src=x onerror", "<script>alert(1)", "' onmouseover='alert(1)")
