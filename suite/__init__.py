"""The top floor: assembles the services into a suite (the package list, the schema, the runner
of ``credgate up``, production nodes and the ``credgate`` CLI). Nothing below imports it."""
