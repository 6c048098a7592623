-- The register's free-text search (`q`) is served by an FTS5 table with the trigram tokenizer
-- per register table, generated with the tables by `Archivio::prepara_registro` (FTS5 is
-- compiled into the bundled SQLite). Nothing to migrate: this file keeps the two backends'
-- migration numbers aligned.
SELECT 1;
