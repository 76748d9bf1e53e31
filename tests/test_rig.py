from pmmtalk_live import rig


def test_model_channels_are_the_arkit_lower_face_in_order():
    assert len(rig.MODEL_CHANNELS) == 32
    assert rig.MODEL_CHANNELS[:5] == ("jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose")
    assert rig.MODEL_CHANNELS[-2:] == ("noseSneerLeft", "noseSneerRight")
    # the model's channels keep the Live Link Face wire order among themselves
    wire = [rig.to_camel(n) for n in rig.LIVE_LINK_FACE_NAMES]
    assert sorted(rig.MODEL_CHANNELS, key=wire.index) == list(rig.MODEL_CHANNELS)


def test_live_link_face_names_and_csv_columns():
    assert len(rig.LIVE_LINK_FACE_NAMES) == 61
    assert rig.LIVE_LINK_FACE_NAMES[17] == "JawOpen" and rig.LIVE_LINK_FACE_NAMES[51] == "TongueOut"
    assert len(rig.CSV_COLUMNS) == 63
    assert rig.CSV_COLUMNS[:2] == ("Timecode", "BlendshapeCount")
    # the CSV swaps JawRight/JawLeft and MouthRight/MouthLeft against the wire order
    assert rig.CSV_COLUMNS.index("JawRight") < rig.CSV_COLUMNS.index("JawLeft")
    assert rig.CSV_COLUMNS.index("MouthRight") < rig.CSV_COLUMNS.index("MouthLeft")
    assert rig.CSV_COLUMNS[54:] == rig.LIVE_LINK_FACE_NAMES[52:]


def test_regions_cover_every_source_channel_once():
    assert sorted(rig.REGION_OF) == sorted(rig.SOURCE_CHANNELS)
    assert rig.REGION_OF["jawOpen"] == "jaw" and rig.REGION_OF["eyeBlinkLeft"] == "eyes"
    assert rig.REGION_OF["headYaw"] == "head" and rig.REGION_OF["leftEyeYaw"] == "eyes"
    assert set(rig.IDLE_CHANNELS).isdisjoint(rig.MODEL_CHANNELS)
    assert len(rig.IDLE_CHANNELS) + 32 == 61
