"""The leaderboard: the results of benchmark suites as JSON, CSV, Markdown and a static HTML page."""
