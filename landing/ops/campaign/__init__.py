"""The campaign page: sign-ups over time and by referrer, the pipeline's health, exports, and
finding or erasing one number, for operators, at /dashboard/campaign/ in the task dashboard's
process (behind its BasicAuth and CsrfProtect, never the public door).

A small Flask app of its own, holding what the operator API's code paths need in-process:
reads (landing.admin.queries, time-limited, off the event loop), exports
(landing.admin.exporting), erasure (landing.ops.erasure). docs/campaign.md tells its story.

The app is built in app.py; this module imports nothing, so the dashboard can name the
page's path without importing the page (which imports the dashboard's modules).
"""

PATH = "/campaign"  # under the dashboard's /dashboard
