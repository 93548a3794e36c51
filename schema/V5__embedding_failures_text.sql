-- embed-products skips a product the model refused until its text changes: keep the refused text.
ALTER TABLE retail.embedding_failures ADD COLUMN embedding_text text NOT NULL DEFAULT '';
ALTER TABLE retail.embedding_failures ALTER COLUMN embedding_text DROP DEFAULT;
