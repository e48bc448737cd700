"""NRN gateway: the web pages for officials and staff, and the public JSON API."""
