"""The studio in the browser: Gradio layout (blocks), controls read from the schema, the Finish panel,
and pure handlers."""
