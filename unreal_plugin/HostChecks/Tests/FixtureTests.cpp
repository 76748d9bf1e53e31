// The two ends checked against each other: datagrams made by the daemon's own encoder
// (scripts/unreal_fixtures.py -> Fixtures/*.bin) decode, with the plugin's core, to the fields the
// manifest records, and the receiver pushes exactly the static data and frames the manifest expects.
// One test per scenario of Fixtures/manifest.txt.

#include "HostTest.h"

#include "Protocol/PmmtalkOsc.h"
#include "Protocol/PmmtalkReceiver.h"
#include "Protocol/PmmtalkWire.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#ifndef PMM_FIXTURES_DIR
#error "PMM_FIXTURES_DIR must name unreal_plugin/HostChecks/Fixtures"
#endif

using Pmmtalk::EPushKind;
using Pmmtalk::FPush;

namespace
{
using FFields = std::map<std::string, std::string>;

struct FLine
{
	std::string Kind;
	std::string Word;  // the datagram file or the scenario name
	FFields Fields;
};

struct FScenario
{
	std::string Name;
	FFields Options;
	std::vector<FLine> Lines;
};

std::string FromHex(const std::string& Hex)
{
	std::string Out;
	if (Hex == "-")
	{
		return Out;
	}
	for (size_t Index = 0; Index + 1 < Hex.size(); Index += 2)
	{
		Out.push_back(char(std::strtoul(Hex.substr(Index, 2).c_str(), nullptr, 16)));
	}
	return Out;
}

std::vector<std::string> Split(const std::string& Text, char Separator)
{
	std::vector<std::string> Parts;
	if (Text == "-" || Text.empty())
	{
		return Parts;
	}
	std::stringstream Stream(Text);
	std::string Part;
	while (std::getline(Stream, Part, Separator))
	{
		Parts.push_back(Part);
	}
	return Parts;
}

std::vector<std::string> HexList(const std::string& Text)
{
	std::vector<std::string> Out;
	for (const std::string& Hex : Split(Text, ','))
	{
		Out.push_back(FromHex(Hex));
	}
	return Out;
}

uint32_t FloatBits(float Value)
{
	uint32_t Bits = 0;
	std::memcpy(&Bits, &Value, 4);
	return Bits;
}

std::vector<uint32_t> BitsList(const std::string& Text)
{
	std::vector<uint32_t> Out;
	for (const std::string& Hex : Split(Text, ','))
	{
		Out.push_back(uint32_t(std::strtoul(Hex.c_str(), nullptr, 16)));
	}
	return Out;
}

std::vector<uint32_t> BitsOf(const std::vector<float>& Values)
{
	std::vector<uint32_t> Out;
	for (const float Value : Values)
	{
		Out.push_back(FloatBits(Value));
	}
	return Out;
}

std::vector<FScenario> ReadManifest()
{
	std::ifstream File(std::string(PMM_FIXTURES_DIR) + "/manifest.txt");
	std::vector<FScenario> Scenarios;
	std::string Text;
	while (std::getline(File, Text))
	{
		if (Text.empty() || Text[0] == '#')
		{
			continue;
		}
		std::stringstream Stream(Text);
		FLine Line;
		Stream >> Line.Kind;
		std::string Token;
		while (Stream >> Token)
		{
			const size_t Equals = Token.find('=');
			if (Equals == std::string::npos)
			{
				Line.Word = Token;
			}
			else
			{
				Line.Fields[Token.substr(0, Equals)] = Token.substr(Equals + 1);
			}
		}
		if (Line.Kind == "scenario")
		{
			Scenarios.push_back({Line.Word, Line.Fields, {}});
		}
		else if (Line.Kind != "end" && !Scenarios.empty())
		{
			Scenarios.back().Lines.push_back(Line);
		}
	}
	return Scenarios;
}

std::vector<uint8_t> ReadDatagram(const std::string& File)
{
	std::ifstream Stream(std::string(PMM_FIXTURES_DIR) + "/" + File, std::ios::binary);
	return std::vector<uint8_t>(std::istreambuf_iterator<char>(Stream), std::istreambuf_iterator<char>());
}

/** The one message of a fixture datagram (the daemon sends one per datagram). */
bool OnlyMessage(const std::vector<uint8_t>& Datagram, Pmmtalk::Osc::FMessage& Out)
{
	int Count = 0;
	const Pmmtalk::Osc::EError Error = Pmmtalk::Osc::ParsePacket(Datagram.data(), Datagram.size(),
		[&](const Pmmtalk::Osc::FMessage& Message) {
			Out = Message;
			++Count;
		});
	return Error == Pmmtalk::Osc::EError::None && Count == 1;
}

void CheckNames(const std::vector<uint8_t>& Datagram, const FFields& Fields)
{
	Pmmtalk::Osc::FMessage Message;
	REQUIRE(OnlyMessage(Datagram, Message));
	CHECK(Message.Address == Pmmtalk::NamesAddress);
	Pmmtalk::FNamesPart Part;
	int32_t Version = 0;
	REQUIRE(Pmmtalk::DecodeNames(Message, Part, Version) == Pmmtalk::EDecode::Ok);
	CHECK_EQ(std::string(Part.Subject), FromHex(Fields.at("subject")));
	CHECK_EQ(Part.SchemaId, int32_t(std::stol(Fields.at("schema"))));
	CHECK_EQ(FloatBits(Part.Fps), uint32_t(std::strtoul(Fields.at("fps").c_str(), nullptr, 16)));
	CHECK_EQ(Part.NameCount, int32_t(std::stol(Fields.at("count"))));
	const std::vector<std::string> PartOf = Split(Fields.at("part"), '/');
	CHECK_EQ(Part.PartIndex, int32_t(std::stol(PartOf.at(0))));
	CHECK_EQ(Part.PartCount, int32_t(std::stol(PartOf.at(1))));
	CHECK_EQ(Part.FirstNameIndex, int32_t(std::stol(Fields.at("first"))));
	std::vector<std::string> Names(Part.Names.begin(), Part.Names.end());
	CHECK(Names == HexList(Fields.at("names")));
}

void CheckFrame(const std::vector<uint8_t>& Datagram, const FFields& Fields)
{
	Pmmtalk::Osc::FMessage Message;
	REQUIRE(OnlyMessage(Datagram, Message));
	CHECK(Message.Address == Pmmtalk::FrameAddress);
	Pmmtalk::FFrameMessage Frame;
	int32_t Version = 0;
	REQUIRE(Pmmtalk::DecodeFrame(Message, Frame, Version) == Pmmtalk::EDecode::Ok);
	CHECK_EQ(std::string(Frame.Subject), FromHex(Fields.at("subject")));
	CHECK_EQ(Frame.SchemaId, int32_t(std::stol(Fields.at("schema"))));
	CHECK_EQ(Frame.FrameNumber, int32_t(std::stol(Fields.at("number"))));
	CHECK_EQ(Frame.TimeTag, uint64_t(std::stoull(Fields.at("timetag"))));
	CHECK(BitsOf(Frame.Values) == BitsList(Fields.at("values")));
}

void CheckPush(const FPush& Push, const FLine& Expected, size_t Index)
{
	const std::string Where = "push " + std::to_string(Index) + ": ";
	if (Expected.Kind == "expect-static")
	{
		CHECK(Push.Kind == EPushKind::StaticData);
		CHECK_EQ(Push.Subject, FromHex(Expected.Fields.at("subject")));
		if (Push.Names != HexList(Expected.Fields.at("names")))
		{
			PmmTest::Fail(__FILE__, __LINE__, Where + "static names differ");
		}
		return;
	}
	CHECK(Push.Kind == EPushKind::FrameData);
	CHECK_EQ(Push.Subject, FromHex(Expected.Fields.at("subject")));
	CHECK_EQ(Push.FrameNumber, int32_t(std::stol(Expected.Fields.at("number"))));
	if (BitsOf(Push.Values) != BitsList(Expected.Fields.at("values")))
	{
		PmmTest::Fail(__FILE__, __LINE__, Where + "frame values differ");
	}
	const std::string SenderTime = Expected.Fields.at("sendertime");
	if (SenderTime == "none")
	{
		CHECK(!Push.bHasSenderTime);
	}
	else
	{
		CHECK(Push.bHasSenderTime);
		CHECK(std::fabs(Push.SenderUnixSeconds - std::stod(SenderTime)) < 1e-6);
	}
}

void RunScenario(const FScenario& Scenario)
{
	Pmmtalk::FReceiverSettings Settings;
	if (Scenario.Options.count("vmc") != 0)
	{
		Settings.bReceiveVmc = true;
		Settings.VmcSubject = FromHex(Scenario.Options.at("vmc"));
	}
	Pmmtalk::FReceiver Receiver(Settings);
	Pmmtalk::FReceiverOutput Output;
	Receiver.Announce(Output);
	for (const FPush& Announced : Output.Pushes)
	{
		CHECK(Announced.Kind == EPushKind::StaticData);
		CHECK(Announced.Names == Pmmtalk::DefaultCurveNames());
	}

	std::vector<FPush> Pushes;
	std::vector<const FLine*> Expected;
	std::vector<uint8_t> Datagram;
	double Now = 1000.0;
	for (const FLine& Line : Scenario.Lines)
	{
		if (Line.Kind == "datagram")
		{
			Datagram = ReadDatagram(Line.Word);
			REQUIRE(!Datagram.empty());
			CHECK(Datagram.size() <= 1472u);  // the protocol's limit, kept by the sender
			Now += 1.0 / 60.0;
			Output.Clear();
			Receiver.Receive(Datagram.data(), Datagram.size(), Now, 1763942400.0, Output);
			Pushes.insert(Pushes.end(), Output.Pushes.begin(), Output.Pushes.end());
		}
		else if (Line.Kind == "names")
		{
			CheckNames(Datagram, Line.Fields);
		}
		else if (Line.Kind == "frame")
		{
			CheckFrame(Datagram, Line.Fields);
		}
		else if (Line.Kind == "expect-static" || Line.Kind == "expect-frame")
		{
			Expected.push_back(&Line);
		}
	}
	CHECK_EQ(Pushes.size(), Expected.size());
	for (size_t Index = 0; Index < Pushes.size() && Index < Expected.size(); ++Index)
	{
		CheckPush(Pushes[Index], *Expected[Index], Index);
	}
	CHECK_EQ(Receiver.Counters().Malformed, uint64_t(0));
}
}  // namespace

PMM_TEST(ManifestHasEveryScenario)
{
	const std::vector<FScenario> Scenarios = ReadManifest();
	CHECK(Scenarios.size() >= 10u);
	size_t Datagrams = 0;
	for (const FScenario& Scenario : Scenarios)
	{
		for (const FLine& Line : Scenario.Lines)
		{
			Datagrams += Line.Kind == "datagram" ? 1 : 0;
		}
	}
	CHECK(Datagrams >= 30u);
}

int main(int ArgumentCount, char** Arguments)
{
	for (const FScenario& Scenario : ReadManifest())
	{
		PmmTest::Register("scenario_" + Scenario.Name, [Scenario]() { RunScenario(Scenario); });
	}
	return PmmTest::RunMain(ArgumentCount, Arguments);
}
