// Unit tests of the protocol core (Private/Protocol): OSC reading, the wire messages, the receiver's rules
// (docs/protocol.md section 2.7) and the connection string. Built with AddressSanitizer and
// UndefinedBehaviorSanitizer, without exceptions or RTTI (as Unreal builds the same headers).

#include "HostTest.h"
#include "OscBuilder.h"

#include "Protocol/PmmtalkConnection.h"
#include "Protocol/PmmtalkCurves.h"
#include "Protocol/PmmtalkOsc.h"
#include "Protocol/PmmtalkReceiver.h"
#include "Protocol/PmmtalkWire.h"

#include <climits>
#include <cmath>
#include <limits>

using namespace PmmTest;
using Pmmtalk::EPushKind;
using Pmmtalk::FPush;
using Pmmtalk::FReceiver;
using Pmmtalk::FReceiverOutput;
using Pmmtalk::FReceiverSettings;
using Pmmtalk::Osc::EError;

namespace
{
EError Parse(const FBytes& Datagram, std::vector<Pmmtalk::Osc::FMessage>* Messages = nullptr)
{
	return Pmmtalk::Osc::ParsePacket(Datagram.data(), Datagram.size(), [Messages](const Pmmtalk::Osc::FMessage& Message) {
		if (Messages != nullptr)
		{
			Messages->push_back(Message);
		}
	});
}

/** A receiver fed at explicit times: Now advances only when told. */
struct FFeed
{
	explicit FFeed(FReceiverSettings Settings = FReceiverSettings()) : Receiver(std::move(Settings)) {}

	std::vector<FPush> Send(const FBytes& Datagram)
	{
		Out.Clear();
		Receiver.Receive(Datagram.data(), Datagram.size(), Now, NowUnix, Out);
		Logs.insert(Logs.end(), Out.Logs.begin(), Out.Logs.end());
		return Out.Pushes;
	}
	std::vector<FPush> Tick()
	{
		Out.Clear();
		Receiver.Tick(Now, Out);
		return Out.Pushes;
	}

	FReceiver Receiver;
	FReceiverOutput Out;
	std::vector<std::string> Logs;
	double Now = 100.0;
	double NowUnix = 1763942400.0;
};

const std::vector<std::string> JawAndClose = {"JawOpen", "MouthClose"};
const int32_t JawAndCloseId = 965694906;  // docs/protocol.md section 2.5

/** Names then a first frame for Subject: the subject is live afterwards. */
void Start(FFeed& Feed, const std::string& Subject)
{
	Feed.Send(NamesMessage(Subject, JawAndCloseId, 60.0f, 2, 0, 1, 0, JawAndClose));
	Feed.Send(FrameBundle(Subject, JawAndCloseId, 0, {0.5f, 0.25f}));
}
}  // namespace

// --- OSC ---------------------------------------------------------------------------------------------------

PMM_TEST(OscStringsArePaddedToFourBytes)
{
	FBytes Datagram;
	PutString(Datagram, "/a");
	PutString(Datagram, ",ss");
	PutString(Datagram, "Anna");
	PutString(Datagram, "Bob");
	CHECK_EQ(Datagram.size(), size_t(4 + 4 + 8 + 4));
	std::vector<Pmmtalk::Osc::FMessage> Messages;
	REQUIRE(Parse(Datagram, &Messages) == EError::None);
	REQUIRE(Messages.size() == 1u);
	CHECK(Messages[0].Arguments[0].Text == "Anna");
	CHECK(Messages[0].Arguments[1].Text == "Bob");
}

PMM_TEST(OscTruncatedStringsAndBadPaddingAreRejected)
{
	FBytes NoNul = {'/', 'a', 'b', 'c'};
	CHECK(Parse(NoNul) == EError::TruncatedString);
	FBytes ShortPadding = {'/', 'a', 'b', 'c', 'd', 0};  // "abcd" needs 8 bytes
	CHECK(Parse(ShortPadding) == EError::TruncatedString);
	FBytes DirtyPadding = {'/', 'a', 0, 'x'};
	CHECK(Parse(DirtyPadding) == EError::BadPadding);
	FBytes StringArgument = Message("/a", ",s");
	StringArgument.insert(StringArgument.end(), {'x', 'y'});  // an argument string without its NUL
	CHECK(Parse(StringArgument) == EError::TruncatedArgument);
}

PMM_TEST(OscEveryTypeTagReadsItsSize)
{
	FBytes Arguments;
	PutInt32(Arguments, -7);                  // i
	PutFloat(Arguments, 1.5f);                // f
	PutString(Arguments, "hi");               // s
	PutInt32(Arguments, 3);                   // b: size 3, bytes, 1 padding
	Arguments.insert(Arguments.end(), {1, 2, 3, 0});
	PutUInt64(Arguments, 0x0102030405060708ull);  // h
	double Double = -2.25;                    // d
	uint64_t DoubleBits = 0;
	std::memcpy(&DoubleBits, &Double, 8);
	PutUInt64(Arguments, DoubleBits);
	PutUInt64(Arguments, 42);                 // t
	PutInt32(Arguments, 'z');                 // c
	PutString(Arguments, "S");                // S
	const FBytes Datagram = Message("/all", ",ifsbhdtTFNIcS[]", Arguments);  // the views point into it
	std::vector<Pmmtalk::Osc::FMessage> Messages;
	REQUIRE(Parse(Datagram, &Messages) == EError::None);
	const std::vector<Pmmtalk::Osc::FArgument>& Parsed = Messages.at(0).Arguments;
	REQUIRE(Parsed.size() == 13u);
	CHECK_EQ(Parsed[0].Int, -7);
	CHECK_EQ(Parsed[1].Float, 1.5f);
	CHECK(Parsed[2].Text == "hi");
	CHECK(Parsed[3].Text == std::string_view("\x01\x02\x03", 3));
	CHECK_EQ(Parsed[4].Int64, int64_t(0x0102030405060708ll));
	CHECK_EQ(Parsed[5].Double, -2.25);
	CHECK_EQ(Parsed[6].TimeTag, uint64_t(42));
	CHECK_EQ(Parsed[7].Tag, 'T');
	CHECK_EQ(Parsed[10].Tag, 'I');
	CHECK_EQ(Parsed[11].Int, int32_t('z'));
	CHECK(Parsed[12].Text == "S");
}

PMM_TEST(OscUnknownTypeTagStopsParsing)
{
	FBytes Arguments;
	PutInt32(Arguments, 1);
	CHECK(Parse(Message("/a", ",iQ", Arguments)) == EError::UnknownTypeTag);
}

PMM_TEST(OscBlobSizesAreChecked)
{
	FBytes Negative;
	PutInt32(Negative, -4);
	CHECK(Parse(Message("/a", ",b", Negative)) == EError::BadBlobSize);
	FBytes Huge;
	PutInt32(Huge, 0x7FFFFFFF);
	Huge.insert(Huge.end(), 8, 0);
	CHECK(Parse(Message("/a", ",b", Huge)) == EError::BadBlobSize);
	FBytes PaddingMissing;
	PutInt32(PaddingMissing, 5);
	PaddingMissing.insert(PaddingMissing.end(), 5, 7);  // 5 bytes, padding to 8 absent
	CHECK(Parse(Message("/a", ",b", PaddingMissing)) == EError::BadBlobSize);
	FBytes Empty;
	PutInt32(Empty, 0);
	CHECK(Parse(Message("/a", ",b", Empty)) == EError::None);
}

PMM_TEST(OscMessageShapeIsChecked)
{
	CHECK(Parse(FBytes()) == EError::Empty);
	CHECK(Parse(FBytes{'x', 0, 0, 0}) == EError::NotOsc);
	FBytes NoTags;
	PutString(NoTags, "/a");
	CHECK(Parse(NoTags) == EError::MissingTypeTags);
	FBytes TagsWithoutComma;
	PutString(TagsWithoutComma, "/a");
	PutString(TagsWithoutComma, "i");
	PutInt32(TagsWithoutComma, 1);
	CHECK(Parse(TagsWithoutComma) == EError::MissingTypeTags);
	FBytes Trailing = Message("/a", ",");
	PutInt32(Trailing, 9);
	CHECK(Parse(Trailing) == EError::TrailingBytes);
	FBytes MissingArgument = Message("/a", ",if");
	PutInt32(MissingArgument, 1);
	CHECK(Parse(MissingArgument) == EError::TruncatedArgument);
	FBytes NotAnAddress;
	PutString(NotAnAddress, "#nope");
	CHECK(Parse(NotAnAddress) == EError::NotOsc);
}

PMM_TEST(OscBundlesCarryTheirTimeTagAndNestBoundedly)
{
	const FBytes Inner = Message("/a", ",");
	std::vector<Pmmtalk::Osc::FMessage> Messages;
	REQUIRE(Parse(Bundle(77, {Inner, Bundle(88, {Inner})}), &Messages) == EError::None);
	REQUIRE(Messages.size() == 2u);
	CHECK_EQ(Messages[0].TimeTag, uint64_t(77));
	CHECK_EQ(Messages[1].TimeTag, uint64_t(88));

	FBytes Nested = Inner;
	for (int Depth = 0; Depth < Pmmtalk::Osc::MaxBundleDepth; ++Depth)
	{
		Nested = Bundle(1, {Nested});
	}
	CHECK(Parse(Nested) == EError::None);
	CHECK(Parse(Bundle(1, {Nested})) == EError::TooDeep);
	FBytes VeryDeep = Inner;
	for (int Depth = 0; Depth < 10000; ++Depth)  // far deeper than any stack could recurse
	{
		VeryDeep = Bundle(1, {VeryDeep});
		if (VeryDeep.size() > 200000)
		{
			break;
		}
	}
	CHECK(Parse(VeryDeep) == EError::TooDeep);
}

PMM_TEST(OscBundleElementSizesAreChecked)
{
	const FBytes Inner = Message("/a", ",");
	FBytes Good = Bundle(1, {Inner});
	FBytes TooLong = Good;
	TooLong[19] = uint8_t(TooLong[19] + 4);  // claims 4 more bytes than there are
	CHECK(Parse(TooLong) == EError::BadElementSize);
	FBytes NotMultipleOfFour = Good;
	NotMultipleOfFour[19] = uint8_t(NotMultipleOfFour[19] - 1);
	CHECK(Parse(NotMultipleOfFour) == EError::BadElementSize);
	FBytes Negative = Bundle(1, {});
	PutInt32(Negative, -8);
	Negative.insert(Negative.end(), 8, 0);
	CHECK(Parse(Negative) == EError::BadElementSize);
	FBytes Zero = Bundle(1, {});
	PutInt32(Zero, 0);
	CHECK(Parse(Zero) == EError::BadElementSize);
	FBytes CutTimeTag = {'#', 'b', 'u', 'n', 'd', 'l', 'e', 0, 0, 0, 0};
	CHECK(Parse(CutTimeTag) == EError::TruncatedArgument);
	FBytes ElementTrailing = Message("/a", ",");
	PutInt32(ElementTrailing, 5);  // inside the element, after the message: not allowed
	CHECK(Parse(Bundle(1, {ElementTrailing})) == EError::TrailingBytes);
	CHECK(Parse(Bundle(1, {})) == EError::None);  // an empty bundle is fine
}

// --- the wire messages --------------------------------------------------------------------------------------

PMM_TEST(SchemaIdIsZlibCrc32TopBitCleared)
{
	Pmmtalk::FCrc32 Crc;
	Crc.Update("123456789");
	CHECK_EQ(Crc.Final(), 0xCBF43926u);  // the CRC-32 check value
	CHECK_EQ(Pmmtalk::SchemaIdOf(JawAndClose), JawAndCloseId);
	CHECK_EQ(Pmmtalk::SchemaIdOf(Pmmtalk::DefaultCurveNames()), 933677753);  // docs/protocol.md section 2.5
	CHECK_EQ(Pmmtalk::SchemaIdOf(std::vector<std::string>()), 0);
}

PMM_TEST(DocumentedNamesExampleDecodes)
{
	// docs/protocol.md section 2.3, byte for byte.
	const FBytes Datagram = {
		0x2f, 0x70, 0x6d, 0x6d, 0x74, 0x61, 0x6c, 0x6b, 0x2f, 0x6e, 0x61, 0x6d, 0x65, 0x73, 0x00, 0x00,
		0x2c, 0x69, 0x73, 0x69, 0x66, 0x69, 0x69, 0x69, 0x69, 0x73, 0x73, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x41, 0x6e, 0x6e, 0x61, 0x00, 0x00, 0x00, 0x00, 0x39, 0x8f, 0x55, 0xba, 0x42, 0x70, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x4a, 0x61, 0x77, 0x4f, 0x70, 0x65, 0x6e, 0x00, 0x4d, 0x6f, 0x75, 0x74, 0x68, 0x43, 0x6c, 0x6f,
		0x73, 0x65, 0x00, 0x00};
	std::vector<Pmmtalk::Osc::FMessage> Messages;
	REQUIRE(Parse(Datagram, &Messages) == EError::None);
	Pmmtalk::FNamesPart Part;
	int32_t Version = 0;
	REQUIRE(Pmmtalk::DecodeNames(Messages.at(0), Part, Version) == Pmmtalk::EDecode::Ok);
	CHECK(Part.Subject == "Anna");
	CHECK_EQ(Part.SchemaId, JawAndCloseId);
	CHECK_EQ(Part.Fps, 60.0f);
	CHECK_EQ(Part.NameCount, 2);
	CHECK_EQ(Part.PartCount, 1);
	REQUIRE(Part.Names.size() == 2u);
	CHECK(Part.Names[1] == "MouthClose");
}

PMM_TEST(DocumentedFrameExampleDecodes)
{
	// docs/protocol.md section 2.4, byte for byte.
	const FBytes Datagram = {
		0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0x00, 0xec, 0xce, 0x1e, 0x80, 0x80, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x34, 0x2f, 0x70, 0x6d, 0x6d, 0x74, 0x61, 0x6c, 0x6b, 0x2f, 0x66, 0x72, 0x61,
		0x6d, 0x65, 0x00, 0x00, 0x2c, 0x69, 0x73, 0x69, 0x69, 0x66, 0x66, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x41, 0x6e, 0x6e, 0x61, 0x00, 0x00, 0x00, 0x00, 0x39, 0x8f, 0x55, 0xba, 0x00, 0x00, 0x04, 0xd2,
		0x3f, 0x00, 0x00, 0x00, 0x3e, 0x80, 0x00, 0x00};
	std::vector<Pmmtalk::Osc::FMessage> Messages;
	REQUIRE(Parse(Datagram, &Messages) == EError::None);
	Pmmtalk::FFrameMessage Frame;
	int32_t Version = 0;
	REQUIRE(Pmmtalk::DecodeFrame(Messages.at(0), Frame, Version) == Pmmtalk::EDecode::Ok);
	CHECK_EQ(Frame.FrameNumber, 1234);
	CHECK(Frame.Values == std::vector<float>({0.5f, 0.25f}));
	double UnixSeconds = 0.0;
	REQUIRE(Pmmtalk::TimeTagToUnixSeconds(Frame.TimeTag, 1763942400.0, UnixSeconds));
	CHECK_EQ(UnixSeconds, 1763942400.5);
}

PMM_TEST(VersionIsCheckedBeforeTheTypeTags)
{
	FBytes Arguments;
	PutInt32(Arguments, 2);
	PutString(Arguments, "Anna");
	const FBytes Datagram = Message("/pmmtalk/frame", ",is", Arguments);
	std::vector<Pmmtalk::Osc::FMessage> Messages;
	REQUIRE(Parse(Datagram, &Messages) == EError::None);
	Pmmtalk::FFrameMessage Frame;
	int32_t Version = 0;
	CHECK(Pmmtalk::DecodeFrame(Messages.at(0), Frame, Version) == Pmmtalk::EDecode::WrongVersion);
	CHECK_EQ(Version, 2);
}

PMM_TEST(TimeTagsPickTheNearestNtpEra)
{
	double UnixSeconds = 0.0;
	CHECK(!Pmmtalk::TimeTagToUnixSeconds(1, 1763942400.0, UnixSeconds));  // "immediately": no time
	CHECK(!Pmmtalk::TimeTagToUnixSeconds(0, 1763942400.0, UnixSeconds));
	// 2036-02-07 06:28:16 UTC starts NTP era 1: seconds field 10 there is Unix 2085978506.
	const uint64_t AfterWrap = uint64_t(10) << 32;
	REQUIRE(Pmmtalk::TimeTagToUnixSeconds(AfterWrap, 2085978500.0, UnixSeconds));
	CHECK_EQ(UnixSeconds, 2085978506.0);
}

PMM_TEST(FrameRatesBecomeRatios)
{
	CHECK_EQ(Pmmtalk::FrameRateRatio(60.0f).Numerator, 60);
	CHECK_EQ(Pmmtalk::FrameRateRatio(30.0f).Denominator, 1);
	CHECK_EQ(Pmmtalk::FrameRateRatio(29.97f).Numerator, 30000);
	CHECK_EQ(Pmmtalk::FrameRateRatio(29.97f).Denominator, 1001);
	CHECK_EQ(Pmmtalk::FrameRateRatio(59.94f).Numerator, 60000);
	CHECK_EQ(Pmmtalk::FrameRateRatio(24.5f).Numerator, 24500);
	CHECK_EQ(Pmmtalk::FrameRateRatio(std::numeric_limits<float>::quiet_NaN()).Numerator, 60);
	CHECK_EQ(Pmmtalk::FrameRateRatio(-5.0f).Numerator, 60);
}

PMM_TEST(SceneTimeIsTheLocalTimeOfDayInFrames)
{
	// docs/protocol.md section 3.3: 13:00:00.25 local at 60 fps is frame 2 808 015, sub-frame 0.
	const double UtcOffset = 2 * 3600.0;
	const double Unix = 1763942400.0 + 11 * 3600.0 + 0.25;  // 11:00:00.25 UTC = 13:00:00.25 local
	const Pmmtalk::FSceneFrame Scene = Pmmtalk::SceneFrameOfDay(Unix, UtcOffset, Pmmtalk::FrameRateRatio(60.0f));
	CHECK_EQ(Scene.Frame, 2808015);
	CHECK_EQ(Scene.SubFrame, 0.0f);
	const Pmmtalk::FSceneFrame West = Pmmtalk::SceneFrameOfDay(1763942400.0 + 1.0, -8 * 3600.0, Pmmtalk::FrameRateRatio(30.0f));
	CHECK_EQ(West.Frame, (16 * 3600 + 1) * 30);  // 16:00:01 the day before
	const Pmmtalk::FSceneFrame Junk = Pmmtalk::SceneFrameOfDay(std::numeric_limits<double>::infinity(), 0.0, Pmmtalk::FrameRateRatio(60.0f));
	CHECK_EQ(Junk.Frame, 0);
}

// --- curves ---------------------------------------------------------------------------------------------------

PMM_TEST(CurveNamesNormaliseToUnrealSpelling)
{
	CHECK_EQ(Pmmtalk::NormaliseCurveName("jawOpen"), std::string("JawOpen"));
	CHECK_EQ(Pmmtalk::NormaliseCurveName("JAWOPEN"), std::string("JawOpen"));
	CHECK_EQ(Pmmtalk::NormaliseCurveName("aa"), std::string("aa"));
	CHECK(Pmmtalk::IsRotationCurve("headYaw"));
	CHECK(Pmmtalk::IsRotationCurve("RightEyeRoll"));
	CHECK(!Pmmtalk::IsRotationCurve("TongueOut"));
	CHECK(!Pmmtalk::IsRotationCurve("aa"));
}

PMM_TEST(ValuesAreClampedExceptRotations)
{
	const float Nan = std::numeric_limits<float>::quiet_NaN();
	const float Inf = std::numeric_limits<float>::infinity();
	CHECK_EQ(Pmmtalk::SanitiseValue(1.5f, false), 1.0f);
	CHECK_EQ(Pmmtalk::SanitiseValue(-0.5f, false), 0.0f);
	CHECK_EQ(Pmmtalk::SanitiseValue(0.25f, false), 0.25f);
	CHECK_EQ(Pmmtalk::SanitiseValue(-0.5f, true), -0.5f);
	CHECK_EQ(Pmmtalk::SanitiseValue(Nan, false), 0.0f);
	CHECK_EQ(Pmmtalk::SanitiseValue(Nan, true), 0.0f);
	CHECK_EQ(Pmmtalk::SanitiseValue(Inf, true), 0.0f);
	CHECK_EQ(Pmmtalk::SanitiseValue(-Inf, false), 0.0f);
}

PMM_TEST(Utf8AndSubjectsAreValidated)
{
	CHECK(Pmmtalk::IsValidUtf8("Ämma 角色 🙂"));
	CHECK(!Pmmtalk::IsValidUtf8("\xC0\xAF"));          // overlong '/'
	CHECK(!Pmmtalk::IsValidUtf8("\xED\xA0\x80"));      // a surrogate
	CHECK(!Pmmtalk::IsValidUtf8("\xE6\x97"));          // cut short
	CHECK(!Pmmtalk::IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
	CHECK(!Pmmtalk::IsValidUtf8(std::string_view("a\0b", 3)));
	CHECK(Pmmtalk::IsValidSubject("pmmtalk"));
	CHECK(!Pmmtalk::IsValidSubject(""));
	CHECK(!Pmmtalk::IsValidSubject("none"));
	CHECK(!Pmmtalk::IsValidSubject("tab\there"));
	CHECK(Pmmtalk::IsValidSubject(std::string(255, 'a')));
	CHECK(!Pmmtalk::IsValidSubject(std::string(256, 'a')));
	CHECK(Pmmtalk::IsValidCurveName(std::string(Pmmtalk::MaxNameBytes, 'x')));
	CHECK(!Pmmtalk::IsValidCurveName(std::string(Pmmtalk::MaxNameBytes + 1, 'x')));
}

// --- connection string ------------------------------------------------------------------------------------------

PMM_TEST(ConnectionStringRoundTrips)
{
	Pmmtalk::FSourceConfig Config;
	Pmmtalk::FSourceConfig Parsed;
	Parsed.Port = 1;
	CHECK(Pmmtalk::ParseConnectionString(Pmmtalk::ToConnectionString(Config), Parsed).empty());
	CHECK(Parsed == Config);

	Config.Port = 39539;
	Config.BindAddress = "0.0.0.0";
	Config.Subjects = " Ada ;=%, Bob,角色 ";
	Config.bKeepAlive = false;
	Config.NeutralAfterMs = 2500;
	Config.bReceiveVmc = true;
	Config.VmcSubject = "VMC avatar";
	const std::string Text = Pmmtalk::ToConnectionString(Config);
	CHECK(Text.find(' ') == std::string::npos);
	Pmmtalk::FSourceConfig Back;
	CHECK_EQ(Pmmtalk::ParseConnectionString(Text, Back), std::string());
	CHECK(Back == Config);
	CHECK_EQ(Pmmtalk::ToConnectionString(Back), Text);
}

PMM_TEST(ConnectionStringKeysAreOptionalAndCaseInsensitive)
{
	Pmmtalk::FSourceConfig Config;
	CHECK(Pmmtalk::ParseConnectionString("port=9100; subjects=Ada ;Future=1;;", Config).empty());
	CHECK_EQ(Config.Port, 9100);
	CHECK_EQ(Config.Subjects, std::string("Ada"));
	CHECK_EQ(Config.BindAddress, std::string("127.0.0.1"));  // the default: this machine only
	CHECK(Config.bKeepAlive);
}

PMM_TEST(ConnectionStringErrorsLeaveTheConfigAlone)
{
	const char* const Bad[] = {"Port=0", "Port=70000", "Port=-1", "Port=9x", "Port=", "BindAddress=localhost",
		"BindAddress=1.2.3", "BindAddress=256.0.0.1", "KeepAlive=maybe", "Subjects=%zz", "Subjects=%4", "Port",
		"NeutralAfterMs=99999999999", "Vmc=1;VmcSubject=None", "Subjects=a\x01"};
	for (const char* Text : Bad)
	{
		Pmmtalk::FSourceConfig Config;
		Config.Port = 1234;
		const std::string Problem = Pmmtalk::ParseConnectionString(Text, Config);
		if (Problem.empty())
		{
			PmmTest::Fail(__FILE__, __LINE__, std::string("accepted: ") + Text);
		}
		CHECK_EQ(Config.Port, 1234);
	}
	CHECK(Pmmtalk::SplitSubjects(" Ada, ,bob,ADA,,Bob ") == std::vector<std::string>({"Ada", "bob"}));
}

// --- the receiver ----------------------------------------------------------------------------------------------------

PMM_TEST(AnnounceGivesExpectedSubjectsTheDefaultNames)
{
	FFeed Default;
	Default.Receiver.Announce(Default.Out);
	REQUIRE(Default.Out.Pushes.size() == 1u);
	CHECK(Default.Out.Pushes[0].Kind == EPushKind::StaticData);
	CHECK_EQ(Default.Out.Pushes[0].Subject, std::string("pmmtalk"));
	CHECK(Default.Out.Pushes[0].Names == Pmmtalk::DefaultCurveNames());

	FReceiverSettings Settings;
	Settings.Subjects = {"Ada", "Bob"};
	Settings.bReceiveVmc = true;
	FFeed Filtered(Settings);
	Filtered.Receiver.Announce(Filtered.Out);
	REQUIRE(Filtered.Out.Pushes.size() == 3u);
	CHECK_EQ(Filtered.Out.Pushes[2].Subject, std::string("VMC"));
	Filtered.Out.Clear();
	Filtered.Receiver.Announce(Filtered.Out);  // known subjects are not announced twice
	CHECK(Filtered.Out.Pushes.empty());
}

PMM_TEST(NamesThenFramesPushStaticOnceThenFrames)
{
	FFeed Feed;
	std::vector<FPush> Pushes = Feed.Send(NamesMessage("Anna", JawAndCloseId, 60.0f, 2, 0, 1, 0, {"jawOpen", "MouthClose"}));
	CHECK(Pushes.empty());  // the id is for "JawOpen": this schema's CRC does not match
	CHECK_EQ(Feed.Receiver.Counters().BadNames, uint64_t(1));

	Pushes = Feed.Send(NamesMessage("Anna", JawAndCloseId, 60.0f, 2, 0, 1, 0, JawAndClose));
	REQUIRE(Pushes.size() == 1u);  // a new subject: static data at once
	CHECK(Pushes[0].Kind == EPushKind::StaticData);
	CHECK(Pushes[0].Names == JawAndClose);

	Pushes = Feed.Send(FrameBundle("Anna", JawAndCloseId, 5, {0.5f, 2.0f}, (uint64_t(0xecce1e80u) << 32) | 0x80000000u));
	REQUIRE(Pushes.size() == 1u);
	CHECK(Pushes[0].Kind == EPushKind::FrameData);
	CHECK(Pushes[0].Values == std::vector<float>({0.5f, 1.0f}));
	CHECK_EQ(Pushes[0].FrameNumber, 5);
	CHECK(Pushes[0].bHasSenderTime);
	CHECK_EQ(Pushes[0].SenderUnixSeconds, 1763942400.5);
	CHECK_EQ(Pushes[0].Rate.Numerator, 60);

	Feed.Now += 1.0 / 60;
	Pushes = Feed.Send(NamesMessage("Anna", JawAndCloseId, 30.0f, 2, 0, 1, 0, JawAndClose));  // a repeat: fps only
	CHECK(Pushes.empty());
	Pushes = Feed.Send(FrameBundle("Anna", JawAndCloseId, 6, {0.0f, 0.0f}));
	REQUIRE(Pushes.size() == 1u);
	CHECK_EQ(Pushes[0].Rate.Numerator, 30);
	CHECK(!Pushes[0].bHasSenderTime);
	CHECK_EQ(Feed.Receiver.Counters().Frames, uint64_t(2));
	CHECK_EQ(Feed.Receiver.Counters().StaticPushes, uint64_t(1));
}

PMM_TEST(FramesBeforeNamesAndWrongCountsAreDroppedAndCounted)
{
	FFeed Feed;
	CHECK(Feed.Send(FrameBundle("Anna", JawAndCloseId, 0, {0.5f, 0.5f})).empty());
	CHECK_EQ(Feed.Receiver.Counters().UnknownSchema, uint64_t(1));
	Start(Feed, "Anna");
	CHECK(Feed.Send(FrameBundle("Anna", JawAndCloseId, 1, {0.5f})).empty());
	CHECK(Feed.Send(FrameBundle("Anna", JawAndCloseId, 2, {0.5f, 0.5f, 0.5f})).empty());
	CHECK_EQ(Feed.Receiver.Counters().WrongCount, uint64_t(2));
	CHECK(Feed.Send(FrameBundle("Anna", 12345, 3, {0.5f, 0.5f})).empty());  // a schema never announced
	CHECK_EQ(Feed.Receiver.Counters().UnknownSchema, uint64_t(2));
	CHECK(Feed.Receiver.LastProblem().find("Anna") != std::string::npos);
	CHECK_EQ(Feed.Receiver.Counters().Dropped(), uint64_t(4));
}

PMM_TEST(LateAndRepeatedFramesAreDropped)
{
	FFeed Feed;
	Start(Feed, "Anna");
	Feed.Now += 0.1;
	CHECK_EQ(Feed.Send(FrameBundle("Anna", JawAndCloseId, 10, {0.1f, 0.1f})).size(), size_t(1));
	CHECK(Feed.Send(FrameBundle("Anna", JawAndCloseId, 10, {0.2f, 0.2f})).empty());   // repeated
	CHECK(Feed.Send(FrameBundle("Anna", JawAndCloseId, 9, {0.2f, 0.2f})).empty());    // late
	CHECK(Feed.Send(FrameBundle("Anna", JawAndCloseId, -100, {0.2f, 0.2f})).empty()); // 110 behind: still late at 60 fps
	CHECK_EQ(Feed.Receiver.Counters().OutOfOrder, uint64_t(3));
	CHECK_EQ(Feed.Send(FrameBundle("Anna", JawAndCloseId, 13, {0.3f, 0.3f})).size(), size_t(1));  // a gap is fine
}

PMM_TEST(ARestartedDaemonIsAcceptedAfterAGapOrFarBehind)
{
	FFeed Feed;
	Start(Feed, "Anna");
	Feed.Send(FrameBundle("Anna", JawAndCloseId, 5000, {0.1f, 0.1f}));
	CHECK_EQ(Feed.Send(FrameBundle("Anna", JawAndCloseId, 0, {0.2f, 0.2f})).size(), size_t(1));  // > 2 s behind
	Feed.Send(FrameBundle("Anna", JawAndCloseId, 50, {0.1f, 0.1f}));
	CHECK(Feed.Send(FrameBundle("Anna", JawAndCloseId, 3, {0.2f, 0.2f})).empty());
	Feed.Now += 1.0;  // quiet for a second: whatever comes next is the stream now
	CHECK_EQ(Feed.Send(FrameBundle("Anna", JawAndCloseId, 3, {0.2f, 0.2f})).size(), size_t(1));
	Feed.Send(FrameBundle("Anna", JawAndCloseId, INT32_MAX, {0.1f, 0.1f}));
	CHECK_EQ(Feed.Send(FrameBundle("Anna", JawAndCloseId, INT32_MIN, {0.1f, 0.1f})).size(), size_t(1));  // wrapped
}

PMM_TEST(OtherProtocolVersionsAreDroppedAndLoggedOncePerSubject)
{
	FFeed Feed;
	Feed.Send(FrameBundle("Anna", JawAndCloseId, 0, {0.5f, 0.5f}, 1, 2));
	Feed.Send(FrameBundle("Anna", JawAndCloseId, 1, {0.5f, 0.5f}, 1, 2));
	Feed.Send(NamesMessage("Anna", JawAndCloseId, 60.0f, 2, 0, 1, 0, JawAndClose, 2));
	Feed.Send(FrameBundle("Bob", JawAndCloseId, 1, {0.5f, 0.5f}, 1, 3));
	CHECK_EQ(Feed.Receiver.Counters().WrongVersion, uint64_t(4));
	REQUIRE(Feed.Logs.size() == 2u);
	CHECK(Feed.Logs[0].find("Anna speaks protocol 2, this plugin speaks 1") != std::string::npos);
	CHECK(Feed.Logs[1].find("Bob speaks protocol 3") != std::string::npos);
}

PMM_TEST(WrongTypeTagsAndBadSubjectsAreMalformed)
{
	FFeed Feed;
	FBytes Arguments;
	PutInt32(Arguments, 1);
	PutString(Arguments, "Anna");
	PutInt32(Arguments, JawAndCloseId);
	PutInt32(Arguments, 0);
	PutInt32(Arguments, 7);
	Feed.Send(Bundle(1, {Message("/pmmtalk/frame", ",isiii", Arguments)}));  // an int where a float goes
	CHECK_EQ(Feed.Receiver.Counters().Malformed, uint64_t(1));
	Feed.Send(FrameBundle("None", JawAndCloseId, 0, {}));
	Feed.Send(FrameBundle(std::string(300, 'a'), JawAndCloseId, 0, {}));
	Feed.Send(FrameBundle("bad\xff", JawAndCloseId, 0, {}));
	CHECK_EQ(Feed.Receiver.Counters().Malformed, uint64_t(4));
	Feed.Send(Message("/other/address", ","));
	CHECK_EQ(Feed.Receiver.Counters().Ignored, uint64_t(1));
	CHECK_EQ(Feed.Receiver.Counters().Dropped(), uint64_t(4));
}

PMM_TEST(SubjectFilterAndCaseInsensitiveSubjects)
{
	FReceiverSettings Settings;
	Settings.Subjects = {"anna"};
	FFeed Feed(Settings);
	Start(Feed, "Anna");
	CHECK_EQ(Feed.Receiver.Counters().Frames, uint64_t(1));
	Start(Feed, "Bob");
	CHECK_EQ(Feed.Receiver.Counters().Filtered, uint64_t(2));
	Feed.Now += 0.1;
	const std::vector<FPush> Pushes = Feed.Send(FrameBundle("ANNA", JawAndCloseId, 1, {0.5f, 0.5f}));
	REQUIRE(Pushes.size() == 1u);
	CHECK_EQ(Pushes[0].Subject, std::string("Anna"));  // the first spelling: one Live Link subject
	CHECK_EQ(Feed.Receiver.NumSubjects(), size_t(1));
}

PMM_TEST(NamesArriveInPartsInAnyOrderAndRepetitionsFillGaps)
{
	std::vector<std::string> Names;
	for (int Index = 0; Index < 7; ++Index)
	{
		Names.push_back("Curve" + std::to_string(Index));
	}
	const int32_t Id = Pmmtalk::SchemaIdOf(Names);
	FFeed Feed;
	auto Part = [&](int Index) {
		const int First = Index * 3;
		const int Count = std::min(3, 7 - First);
		return NamesMessage("Crowd", Id, 60.0f, 7, Index, 3, First,
			std::vector<std::string>(Names.begin() + First, Names.begin() + First + Count));
	};
	CHECK(Feed.Send(Part(2)).empty());
	CHECK(Feed.Send(Part(0)).empty());
	CHECK(Feed.Send(Part(2)).empty());  // a repetition; part 1 still missing
	const std::vector<FPush> Pushes = Feed.Send(Part(1));
	REQUIRE(Pushes.size() == 1u);
	CHECK(Pushes[0].Names == Names);
	CHECK_EQ(Feed.Receiver.Counters().BadNames, uint64_t(0));
}

PMM_TEST(ImpossibleNamesPartsAreRejected)
{
	FFeed Feed;
	const std::vector<std::string> Two = {"A", "B"};
	const int32_t Id = Pmmtalk::SchemaIdOf(Two);
	Feed.Send(NamesMessage("X", Id, 60.0f, 1, 0, 1, 0, Two));            // 2 names, count 1
	Feed.Send(NamesMessage("X", Id, 60.0f, 2, 0, 0, 0, Two));            // part count 0
	Feed.Send(NamesMessage("X", Id, 60.0f, 2, 1, 1, 0, Two));            // part index past the count
	Feed.Send(NamesMessage("X", Id, 60.0f, 2, 0, 3, 0, Two));            // 3 parts for 2 names
	Feed.Send(NamesMessage("X", Id, 60.0f, 2, 0, 1, -1, Two));           // negative first index
	Feed.Send(NamesMessage("X", Id, 60.0f, 2, 0, 1, 2147483647, Two));   // first index overflowing
	Feed.Send(NamesMessage("X", Id, 60.0f, 2000000000, 0, 1, 0, Two));   // a count no datagram could carry
	Feed.Send(NamesMessage("X", Id, 0.0f, 2, 0, 1, 0, Two));             // fps 0
	Feed.Send(NamesMessage("X", Id, std::numeric_limits<float>::quiet_NaN(), 2, 0, 1, 0, Two));
	Feed.Send(NamesMessage("X", Id, 60.0f, 2, 0, 1, 0, {"A", ""}));      // an empty name
	Feed.Send(NamesMessage("X", Pmmtalk::SchemaIdOf(std::vector<std::string>{"A", "a"}), 60.0f, 2, 0, 1, 0, {"A", "a"}));
	CHECK_EQ(Feed.Receiver.Counters().BadNames, uint64_t(11));
	// Parts that disagree with the parts before them.
	Feed.Send(NamesMessage("Y", Id, 60.0f, 2, 0, 2, 0, {"A"}));
	Feed.Send(NamesMessage("Y", Id, 60.0f, 3, 1, 2, 1, {"B"}));
	CHECK_EQ(Feed.Receiver.Counters().BadNames, uint64_t(12));
	CHECK_EQ(Feed.Receiver.Counters().Frames + Feed.Receiver.Counters().StaticPushes, uint64_t(0));
}

PMM_TEST(SchemasPerSubjectAreBounded)
{
	FFeed Feed;
	std::vector<int32_t> Ids;
	for (size_t Index = 0; Index <= Pmmtalk::MaxSchemasPerSubject; ++Index)
	{
		const std::vector<std::string> Names = {"Curve" + std::to_string(Index)};
		Ids.push_back(Pmmtalk::SchemaIdOf(Names));
		Feed.Send(NamesMessage("Anna", Ids.back(), 60.0f, 1, 0, 1, 0, Names));
	}
	Feed.Now += 2.0;
	CHECK(Feed.Send(FrameBundle("Anna", Ids.front(), 0, {0.5f})).empty());  // the least recently used went
	CHECK_EQ(Feed.Send(FrameBundle("Anna", Ids.back(), 1, {0.5f})).size(), size_t(2));  // static + frame
}

PMM_TEST(SubjectsAreBoundedAndJunkMakesRoom)
{
	FFeed Feed;
	for (size_t Index = 0; Index < Pmmtalk::MaxSubjects; ++Index)
	{
		Start(Feed, "Subject" + std::to_string(Index));
	}
	Start(Feed, "OneTooMany");
	CHECK_EQ(Feed.Receiver.Counters().TooManySubjects, uint64_t(1));
	CHECK_EQ(Feed.Receiver.NumSubjects(), Pmmtalk::MaxSubjects);

	FFeed Junk;
	for (size_t Index = 0; Index < Pmmtalk::MaxSubjects; ++Index)  // first parts of names that never complete
	{
		Junk.Send(NamesMessage("Junk" + std::to_string(Index), 1, 60.0f, 2, 0, 2, 0, {"A"}));
	}
	Start(Junk, "Real");
	CHECK_EQ(Junk.Receiver.Counters().Frames, uint64_t(1));
	CHECK_EQ(Junk.Receiver.Counters().TooManySubjects, uint64_t(0));
}

PMM_TEST(QuietSubjectsAreKeptAliveWithTheirLastFrame)
{
	FFeed Feed;
	CHECK(Feed.Tick().empty());
	Start(Feed, "Anna");
	CHECK(Feed.Tick().empty());
	Feed.Now += Pmmtalk::KeepAlivePeriodSeconds * 0.5;
	CHECK(Feed.Tick().empty());
	Feed.Now += Pmmtalk::KeepAlivePeriodSeconds;
	std::vector<FPush> Pushes = Feed.Tick();
	REQUIRE(Pushes.size() == 1u);
	CHECK(Pushes[0].bKeepAlive);
	CHECK(Pushes[0].Values == std::vector<float>({0.5f, 0.25f}));
	CHECK(Feed.Tick().empty());  // not again until another period has passed
	Feed.Now += Pmmtalk::KeepAlivePeriodSeconds;
	CHECK_EQ(Feed.Tick().size(), size_t(1));
	CHECK_EQ(Feed.Receiver.Counters().KeepAlives, uint64_t(2));
}

PMM_TEST(EveryFrameOfASubjectIsOnOneClockInArrivalOrder)
{
	FReceiverSettings Settings;
	Settings.bReceiveVmc = true;
	Settings.VmcSubject = "Avatar";
	FFeed Feed(Settings);
	std::vector<double> Times;
	auto Frame = [&](const FBytes& Datagram) {
		for (const FPush& Push : Feed.Send(Datagram))
		{
			Times.push_back(Push.Kind == EPushKind::FrameData ? Push.SourceUnixSeconds : Times.back());
		}
	};
	Feed.Send(NamesMessage("Anna", JawAndCloseId, 60.0f, 2, 0, 1, 0, JawAndClose));
	Frame(FrameBundle("Anna", JawAndCloseId, 0, {0.5f, 0.25f}));  // no timetag yet: the local Unix time
	CHECK_EQ(Times.back(), 1763942400.0);
	Feed.Now += 0.1;
	Frame(FrameBundle("Anna", JawAndCloseId, 1, {0.5f, 0.25f}, (uint64_t(0xecce1e80u) << 32) | 0x80000000u));
	CHECK_EQ(Times.back(), 1763942400.5);  // the sender's time
	Feed.Now += 0.1;
	Frame(FrameBundle("Anna", JawAndCloseId, 2, {0.5f, 0.25f}));  // the sender's clock, run on locally
	CHECK(std::fabs(Times.back() - 1763942400.6) < 1e-6);
	Feed.Now += 0.1;
	Frame(FrameBundle("Anna", JawAndCloseId, 3, {0.5f, 0.25f}, (uint64_t(0xecce1e80u) << 32) | 0x40000000u));
	CHECK(Times.back() > 1763942400.6 && Times.back() < 1763942400.6 + 1e-5);  // a timetag behind: just after
	Feed.Now += 1.0;
	const std::vector<FPush> KeptAlive = Feed.Tick();
	REQUIRE(KeptAlive.size() == 1u);
	CHECK(std::fabs(KeptAlive[0].SourceUnixSeconds - (Times.back() + 1.0)) < 1e-6);
	for (size_t Index = 1; Index < Times.size(); ++Index)
	{
		CHECK(Times[Index] > Times[Index - 1]);
	}
	Feed.NowUnix += 1.3;
	std::vector<FPush> Vmc = Feed.Send(Bundle(1, {VmcValue("A", 0.5f), VmcApply()}));
	REQUIRE(Vmc.size() == 2u);
	CHECK_EQ(Vmc[1].SourceUnixSeconds, Feed.NowUnix);  // a VMC subject starts on the local Unix time
	Feed.Now += 0.05;
	Vmc = Feed.Send(Bundle(1, {VmcValue("A", 0.25f), VmcApply()}));
	REQUIRE(Vmc.size() == 1u);
	CHECK(std::fabs(Vmc[0].SourceUnixSeconds - (Feed.NowUnix + 0.05)) < 1e-6);
}

PMM_TEST(KeepAliveTurnsNeutralAfterTheConfiguredTimeOrIsOff)
{
	FReceiverSettings Settings;
	Settings.NeutralAfterSeconds = 2.0;
	FFeed Feed(Settings);
	Start(Feed, "Anna");
	Feed.Now += 1.0;
	REQUIRE(Feed.Tick().size() == 1u);
	Feed.Now += 1.5;
	const std::vector<FPush> Pushes = Feed.Tick();
	REQUIRE(Pushes.size() == 1u);
	CHECK(Pushes[0].Values == std::vector<float>({0.0f, 0.0f}));

	FReceiverSettings Off;
	Off.bKeepAlive = false;
	FFeed Quiet(Off);
	Start(Quiet, "Anna");
	Quiet.Now += 10.0;
	CHECK(Quiet.Tick().empty());
}

PMM_TEST(ChangingTheFilterRemovesAndAnnouncesSubjects)
{
	FFeed Feed;
	Start(Feed, "Anna");
	Start(Feed, "Bob");
	FReceiverSettings Settings;
	Settings.Subjects = {"Bob", "Cleo"};
	Feed.Out.Clear();
	Feed.Receiver.SetSettings(Settings, Feed.Out);
	const std::vector<FPush>& Pushes = Feed.Out.Pushes;
	REQUIRE(Pushes.size() == 2u);
	CHECK(Pushes[0].Kind == EPushKind::RemoveSubject);
	CHECK_EQ(Pushes[0].Subject, std::string("Anna"));
	CHECK(Pushes[1].Kind == EPushKind::StaticData);
	CHECK_EQ(Pushes[1].Subject, std::string("Cleo"));
}

PMM_TEST(VmcBlendShapesAreReceivedOnlyWhenEnabled)
{
	const FBytes Frame = Bundle(1, {VmcValue("A", 0.5f), VmcValue("Blink", 2.0f), VmcApply()});
	FFeed Off;
	CHECK(Off.Send(Frame).empty());
	CHECK_EQ(Off.Receiver.Counters().Ignored, uint64_t(3));

	FReceiverSettings Settings;
	Settings.bReceiveVmc = true;
	Settings.VmcSubject = "Avatar";
	Settings.Subjects = {"Anna"};  // the filter does not apply to the VMC subject
	FFeed Feed(Settings);
	std::vector<FPush> Pushes = Feed.Send(Frame);
	REQUIRE(Pushes.size() == 2u);
	CHECK(Pushes[0].Names == std::vector<std::string>({"A", "Blink"}));
	CHECK_EQ(Pushes[1].Subject, std::string("Avatar"));
	CHECK(Pushes[1].Values == std::vector<float>({0.5f, 1.0f}));
	Pushes = Feed.Send(Bundle(1, {VmcValue("a", 0.25f), VmcApply()}));  // same name, other case: no new static
	REQUIRE(Pushes.size() == 1u);
	CHECK(Pushes[0].Values == std::vector<float>({0.25f, 1.0f}));
	CHECK(Feed.Send(Bundle(1, {VmcApply()})).empty());  // nothing new: nothing pushed
	FBytes Arguments;
	PutString(Arguments, "A");
	Feed.Send(Message("/VMC/Ext/Blend/Val", ",s", Arguments));
	CHECK_EQ(Feed.Receiver.Counters().Malformed, uint64_t(1));
}

PMM_TEST(OneDatagramMayHoldNamesAndAFrame)
{
	FFeed Feed;
	FBytes Arguments;
	PutInt32(Arguments, 1);
	PutString(Arguments, "Anna");
	PutInt32(Arguments, JawAndCloseId);
	PutInt32(Arguments, 0);
	PutFloat(Arguments, 0.5f);
	PutFloat(Arguments, 0.25f);
	const FBytes Both = Bundle(1, {NamesMessage("Anna", JawAndCloseId, 60.0f, 2, 0, 1, 0, JawAndClose),
		Message("/pmmtalk/frame", ",isiiff", Arguments)});
	const std::vector<FPush> Pushes = Feed.Send(Both);
	REQUIRE(Pushes.size() == 2u);
	CHECK(Pushes[0].Kind == EPushKind::StaticData);
	CHECK(Pushes[1].Kind == EPushKind::FrameData);
}

PMM_TEST(AMalformedBundleKeepsTheMessagesBeforeTheFault)
{
	FFeed Feed;
	Start(Feed, "Anna");
	Feed.Now += 0.1;
	FBytes Datagram = Bundle(1, {FrameBundle("Anna", JawAndCloseId, 1, {0.5f, 0.5f})});
	PutInt32(Datagram, 64);  // an element that claims more bytes than follow
	const std::vector<FPush> Pushes = Feed.Send(Datagram);
	CHECK_EQ(Pushes.size(), size_t(1));
	CHECK_EQ(Feed.Receiver.Counters().Malformed, uint64_t(1));
}

PMM_TEST_MAIN()
