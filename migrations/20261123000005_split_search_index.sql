-- Splits the full-text index in two. Emails and phone-digit suffixes are
-- nearly unique tokens (a million customers give millions of them); in one
-- index with the names, a name prefix such as "schmid" also had to merge every
-- "schmidt123@..." email term before the column filter threw them away. Names,
-- company and city now have their own small-vocabulary index; contact details
-- (email, phone suffixes) have theirs.

CREATE VIRTUAL TABLE customers_names_fts USING fts5 (
    first_name, last_name, company, city,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

CREATE VIRTUAL TABLE customers_contact_fts USING fts5 (
    email, phone,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

INSERT INTO customers_names_fts (rowid, first_name, last_name, company, city)
SELECT seq, coalesce(first_name, ''), coalesce(last_name, ''), coalesce(company, ''), coalesce(city, '')
FROM customers;

-- Every suffix of the phone digits of at least three digits (the whole number
-- when it is shorter), as `search::phone_suffixes` computes it for new rows.
WITH RECURSIVE suffix (seq, digits, i) AS (
    SELECT seq, phone_digits, 1 FROM customers WHERE phone_digits IS NOT NULL AND phone_digits <> ''
    UNION ALL
    SELECT seq, digits, i + 1 FROM suffix WHERE length(digits) - i >= 3
),
phones (seq, suffixes) AS (
    SELECT seq, group_concat(substr(digits, i), ' ') FROM suffix GROUP BY seq
)
INSERT INTO customers_contact_fts (rowid, email, phone)
SELECT c.seq, coalesce(c.email, ''), coalesce(p.suffixes, '')
FROM customers c LEFT JOIN phones p ON p.seq = c.seq;

DROP TABLE customers_fts;
