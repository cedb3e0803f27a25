INSERT INTO user (username, password)
VALUES
  ('test', 'pbkdf2:sha256:50000$SDy2QMSJ$14e1d831603aefde6c09177af28ac473b1735229eaed24dcffd30d81b5edd7ea'),
  ('other', 'pbkdf2:sha256:50000$Id08U5Tb$7dfebe905e6bb4e4785487f24983f14d2bfbc31ceae8fe45ccf123c6c911e742');

INSERT INTO post (title, body, author_id, created)
VALUES
  ('test title', 'test' || x'0a' || 'body', 1, '2018-01-01 00:00:00');
