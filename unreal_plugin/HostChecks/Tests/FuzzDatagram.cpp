// libFuzzer target: any bytes as a datagram, through the OSC reader, a receiver that already knows the
// daemon's schemas (so frames reach the deep paths: ordering, clamping, keep-alive, static re-push), and
// the connection-string parser. Built with AddressSanitizer and UndefinedBehaviorSanitizer; beyond "no
// crash, no out-of-bounds read", it traps when an output breaks a rule Live Link relies on.
// Seeded with the fixtures (datagrams from the Python daemon's encoder).

#include "OscBuilder.h"

#include "Protocol/PmmtalkConnection.h"
#include "Protocol/PmmtalkCurves.h"
#include "Protocol/PmmtalkOsc.h"
#include "Protocol/PmmtalkReceiver.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace
{
using FStaticNames = std::vector<std::pair<std::string, std::vector<std::string>>>;

void Expect(bool bCondition)
{
	if (!bCondition)
	{
		__builtin_trap();
	}
}

/** Rules every output must keep, whatever came in. */
void CheckPushes(const Pmmtalk::FReceiverOutput& Output, FStaticNames& Static)
{
	for (const Pmmtalk::FPush& Push : Output.Pushes)
	{
		Expect(Pmmtalk::IsValidSubject(Push.Subject));
		if (Push.Kind == Pmmtalk::EPushKind::StaticData)
		{
			Expect(Push.Names.size() <= size_t(Pmmtalk::MaxCurves));
			for (const std::string& Name : Push.Names)
			{
				Expect(Pmmtalk::IsValidCurveName(Name));
			}
			bool bKnown = false;
			for (auto& Entry : Static)
			{
				if (Pmmtalk::EqualsIgnoreCase(Entry.first, Push.Subject))
				{
					Entry.second = Push.Names;
					bKnown = true;
				}
			}
			if (!bKnown)
			{
				Static.emplace_back(Push.Subject, Push.Names);
			}
		}
		else if (Push.Kind == Pmmtalk::EPushKind::FrameData)
		{
			const std::vector<std::string>* Names = nullptr;
			for (const auto& Entry : Static)
			{
				if (Pmmtalk::EqualsIgnoreCase(Entry.first, Push.Subject))
				{
					Names = &Entry.second;
				}
			}
			Expect(Names != nullptr && Names->size() == Push.Values.size());  // Live Link drops mismatched frames
			for (size_t Index = 0; Index < Push.Values.size(); ++Index)
			{
				const float Value = Push.Values[Index];
				Expect(std::isfinite(Value));
				Expect(Pmmtalk::IsRotationCurve((*Names)[Index]) || (Value >= 0.0f && Value <= 1.0f));
			}
			Expect(Push.Rate.Numerator > 0 && Push.Rate.Denominator > 0);
		}
	}
}
/** A receiver in the middle of a stream (VMC on): what a running daemon has told it so far. */
struct FPrimed
{
	Pmmtalk::FReceiver Receiver;
	FStaticNames Static;  // the names last pushed per subject, as Live Link holds them
};

const FPrimed& Primed()
{
	static const FPrimed State = [] {
		Pmmtalk::FReceiverSettings Settings;
		Settings.bReceiveVmc = true;
		Settings.NeutralAfterSeconds = 1.0;
		FPrimed Out{Pmmtalk::FReceiver(Settings), {}};
		Pmmtalk::FReceiverOutput Output;
		Out.Receiver.Announce(Output);
		CheckPushes(Output, Out.Static);
		const std::vector<std::string> Arkit = Pmmtalk::DefaultCurveNames();
		const std::vector<std::string> Two = {"JawOpen", "MouthClose"};
		for (const PmmTest::FBytes& Datagram : {
				 PmmTest::NamesMessage("pmmtalk", Pmmtalk::SchemaIdOf(Arkit), 60.0f, 61, 0, 1, 0, Arkit),
				 PmmTest::NamesMessage("Anna", Pmmtalk::SchemaIdOf(Two), 60.0f, 2, 0, 1, 0, Two),
				 PmmTest::FrameBundle("Anna", Pmmtalk::SchemaIdOf(Two), 100, {0.5f, 0.5f})})
		{
			Output.Clear();
			Out.Receiver.Receive(Datagram.data(), Datagram.size(), 10.0, 1763942400.0, Output);
			CheckPushes(Output, Out.Static);
		}
		return Out;
	}();
	return State;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* Data, size_t Size)
{
	// The reader alone: every view must lie inside the datagram.
	Pmmtalk::Osc::ParsePacket(Data, Size, [Data, Size](const Pmmtalk::Osc::FMessage& Message) {
		const char* Begin = reinterpret_cast<const char*>(Data);
		Expect(Message.Address.data() >= Begin && Message.Address.data() + Message.Address.size() <= Begin + Size);
		for (const Pmmtalk::Osc::FArgument& Argument : Message.Arguments)
		{
			Expect(Argument.Text.empty() || (Argument.Text.data() >= Begin && Argument.Text.data() + Argument.Text.size() <= Begin + Size));
		}
	});

	// A receiver in the middle of a stream (a copy of the primed one), fed the input twice, then left quiet.
	Pmmtalk::FReceiver Receiver = Primed().Receiver;
	FStaticNames Static = Primed().Static;
	Pmmtalk::FReceiverOutput Output;
	double Now = 10.0;
	for (int Repeat = 0; Repeat < 2; ++Repeat)
	{
		Now += 0.01;
		Output.Clear();
		Receiver.Receive(Data, Size, Now, 1763942400.0, Output);
		CheckPushes(Output, Static);
	}
	for (const double Later : {0.3, 2.0})
	{
		Output.Clear();
		Receiver.Tick(Now + Later, Output);
		CheckPushes(Output, Static);
	}

	// The same bytes as a connection string: anything accepted must write back to itself.
	Pmmtalk::FSourceConfig Config;
	if (Pmmtalk::ParseConnectionString(std::string_view(reinterpret_cast<const char*>(Data), Size), Config).empty())
	{
		Pmmtalk::FSourceConfig Again;
		Expect(Pmmtalk::ParseConnectionString(Pmmtalk::ToConnectionString(Config), Again).empty());
		Expect(Again == Config);
	}
	return 0;
}
