"""Date and time formats of the admin: 24-hour times, dates that read the same everywhere.

Django's English formats write "9:30 a.m."; ops across time zones read 09:30.
"""

DATE_FORMAT = "D j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "D j M Y H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
