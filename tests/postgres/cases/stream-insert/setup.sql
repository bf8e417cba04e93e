CREATE TABLE stream_ins (id int PRIMARY KEY, v text CHECK (v <> 'bad'));
