-- The register's free-text search (`q`) is served by a trigram GIN index per register table,
-- generated with the tables by `Archivio::prepara_registro`; its operator class comes from
-- pg_trgm (a contrib extension, trusted since PostgreSQL 13: the database's owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
