"""The wallet's HTTP surface: the JSON API (the CLI's) and the phone-screen pages."""
