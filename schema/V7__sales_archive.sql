-- Archive tables of the row-wise archive (seed 000 6.2.2's archive_old_data, done in bounded batches by
-- the archive job): sales transactions and their items older than ETL_ARCHIVE_SALES_DAYS move here. Same
-- columns and checks as the live tables, keys kept (a batch can never be moved twice); no foreign keys
-- (the products and customers they name may be archived or deleted later). The archive job moves them
-- to the cold tablespace.
CREATE TABLE retail.sales_transactions_archive
    (LIKE retail.sales_transactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS);
ALTER TABLE retail.sales_transactions_archive
    ADD CONSTRAINT sales_transactions_archive_pkey PRIMARY KEY (transaction_id);
CREATE INDEX idx_sales_transactions_archive_date ON retail.sales_transactions_archive (transaction_date);

CREATE TABLE retail.sales_transaction_items_archive
    (LIKE retail.sales_transaction_items INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS);
ALTER TABLE retail.sales_transaction_items_archive
    ADD CONSTRAINT sales_transaction_items_archive_pkey PRIMARY KEY (item_id);
CREATE INDEX idx_sales_transaction_items_archive_transaction
    ON retail.sales_transaction_items_archive (transaction_id);
