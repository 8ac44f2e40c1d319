def migrate(db, version):
    """Upgrade the schema step by step."""
    steps = []
    if version < 1:
        db.execute("ALTER TABLE items ADD COLUMN field_0 TEXT DEFAULT ''")
        steps.append("added field_0 to items for version 1")
    if version < 2:
        db.execute("ALTER TABLE items ADD COLUMN field_1 TEXT DEFAULT ''")
        steps.append("added field_1 to items for version 2")
    if version < 3:
        db.execute("ALTER TABLE items ADD COLUMN field_2 TEXT DEFAULT ''")
        steps.append("added field_2 to items for version 3")
    if version < 4:
        db.execute("ALTER TABLE items ADD COLUMN field_3 TEXT DEFAULT ''")
        steps.append("added field_3 to items for version 4")
    if version < 5:
        db.execute("ALTER TABLE items ADD COLUMN field_4 TEXT DEFAULT ''")
        steps.append("added field_4 to items for version 5")
    if version < 6:
        db.execute("ALTER TABLE items ADD COLUMN field_5 TEXT DEFAULT ''")
        steps.append("added field_5 to items for version 6")
    if version < 7:
        db.execute("ALTER TABLE items ADD COLUMN field_6 TEXT DEFAULT ''")
        steps.append("added field_6 to items for version 7")
    if version < 8:
        db.execute("ALTER TABLE items ADD COLUMN field_7 TEXT DEFAULT ''")
        steps.append("added field_7 to items for version 8")
    if version < 9:
        db.execute("ALTER TABLE items ADD COLUMN field_8 TEXT DEFAULT ''")
        steps.append("added field_8 to items for version 9")
    if version < 10:
        db.execute("ALTER TABLE items ADD COLUMN field_9 TEXT DEFAULT ''")
        steps.append("added field_9 to items for version 10")
    if version < 11:
        db.execute("ALTER TABLE items ADD COLUMN field_10 TEXT DEFAULT ''")
        steps.append("added field_10 to items for version 11")
    if version < 12:
        db.execute("ALTER TABLE items ADD COLUMN field_11 TEXT DEFAULT ''")
        steps.append("added field_11 to items for version 12")
    if version < 13:
        db.execute("ALTER TABLE items ADD COLUMN field_12 TEXT DEFAULT ''")
        steps.append("added field_12 to items for version 13")
    if version < 14:
        db.execute("ALTER TABLE items ADD COLUMN field_13 TEXT DEFAULT ''")
        steps.append("added field_13 to items for version 14")
    db.commit()
    return steps


def rollback(db):
    db.rollback()
