"""Flask glue shared by every blueprint: database session, sign-in, security headers,
error pages, the dashboard and the quick-exit help page."""
