"""The issuer's blueprints: JSON APIs, the VC-API, the short invitation links and the HTML pages."""
