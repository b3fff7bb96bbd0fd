"""The ACA-Py runtime: starting and stopping agents, the admin-API client, the webhook hub and the
offline-contexts plugin that every agent loads."""
