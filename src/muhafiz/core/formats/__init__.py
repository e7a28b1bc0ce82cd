"""One date format on every page, in English and Urdu (issue 15): ISO-style dates and 24-hour
times in Pakistan time, which read the same in both languages and sort as they read."""
