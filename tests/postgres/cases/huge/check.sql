SELECT c.id, length(c.body) AS body, c.body = b.body AS same_body, length(c.blob) AS blob_text,
       decode(substr(c.blob, 3), 'hex') = b.blob AS same_blob, c.doc = b.doc AS same_doc, c.u,
       c.nums = b.nums::text AS same_nums
  FROM copy c JOIN big b USING (id) ORDER BY id;
