"""The supervision console: pages and a JSON API that read only the supervision store."""
