-- The size RETR returned when it differed from LIST's (core/retrieved-size.ts). The row keeps the
-- listed size, so a listing still recognises the message as the one it recorded (a size change
-- would make it a new incarnation, downloaded every cycle); the delete pass never removes a
-- message whose download was not the message listed.
ALTER TABLE uid_index ADD COLUMN retrieved_size bigint;
