// The plugin as a process, for scripts/unreal_e2e.py: a pmmtalk source made by the factory from a
// connection string, added to the recording Live Link client, ticked like the game thread while the
// Python daemon's sender sends it real UDP datagrams. Commands on stdin, one per line; one reply line each:
//
//   wait-frames SUBJECT N SECONDS   -> "OK count" once SUBJECT has N frames, or "TIMEOUT count"
//   status                          -> "STATUS text" (the source's status text, after a tick)
//   edit KEY=VALUE;...              -> "OK" (the details panel edits the source's settings)
//   advance SECONDS                 -> "OK" (the engine clock jumps ahead, then one tick: keep-alive)
//   dump PATH                       -> "OK" (every push so far, one JSON object a line)
//   remove                          -> "OK" (the client shuts the source down)
//   quit                            -> exit 0, or 1 if the client saw a violation (printed on stderr)
//
// Usage: pmm_plugin_e2e CONNECTION-STRING; prints "READY" once the source listens.

#include "RecordingLiveLinkClient.h"

#include "PmmStubHooks.h"
#include "PmmtalkLiveLinkConfig.h"
#include "PmmtalkLiveLinkSourceFactory.h"
#include "PmmtalkLiveLinkSourceSettings.h"

#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

using PmmTest::FRecordedPush;

namespace
{
std::string JsonString(const std::string& Text)
{
	std::string Out = "\"";
	for (const char Character : Text)
	{
		const unsigned char Byte = static_cast<unsigned char>(Character);
		if (Character == '"' || Character == '\\')
		{
			Out += '\\';
			Out += Character;
		}
		else if (Byte < 0x20)
		{
			char Escaped[8];
			std::snprintf(Escaped, sizeof(Escaped), "\\u%04x", Byte);
			Out += Escaped;
		}
		else
		{
			Out += Character;
		}
	}
	return Out + "\"";
}

std::string JsonNumber(double Value)
{
	char Text[40];
	std::snprintf(Text, sizeof(Text), "%.17g", Value);
	return Text;
}

void Dump(const std::vector<FRecordedPush>& Pushes, const std::string& Path)
{
	std::ofstream File(Path);
	for (const FRecordedPush& Push : Pushes)
	{
		const char* Kind = Push.Kind == FRecordedPush::EKind::Static ? "static" : Push.Kind == FRecordedPush::EKind::Frame ? "frame" : "remove";
		File << "{\"kind\": \"" << Kind << "\", \"subject\": " << JsonString(Push.Subject);
		File << ", \"game_thread\": " << (Push.bFromTestThread ? "true" : "false");
		if (Push.Kind == FRecordedPush::EKind::Static)
		{
			File << ", \"names\": [";
			for (size_t Index = 0; Index < Push.Names.size(); ++Index)
			{
				File << (Index > 0 ? ", " : "") << JsonString(Push.Names[Index]);
			}
			File << "]";
		}
		if (Push.Kind == FRecordedPush::EKind::Frame)
		{
			File << ", \"values\": [";
			for (size_t Index = 0; Index < Push.Values.size(); ++Index)
			{
				File << (Index > 0 ? ", " : "") << JsonNumber(Push.Values[Index]);
			}
			File << "], \"world_time\": " << JsonNumber(Push.WorldTime) << ", \"world_offset\": " << JsonNumber(Push.WorldOffset)
				 << ", \"scene_frame\": " << Push.SceneFrame << ", \"scene_subframe\": " << JsonNumber(Push.SceneSubFrame)
				 << ", \"rate\": [" << Push.RateNumerator << ", " << Push.RateDenominator << "]"
				 << ", \"game_thread\": " << (Push.bFromTestThread ? "true" : "false");
		}
		File << "}\n";
	}
}

void Reply(const std::string& Line)
{
	std::cout << Line << std::endl;
}
}  // namespace

int main(int ArgumentCount, char** Arguments)
{
	if (ArgumentCount != 2)
	{
		std::fprintf(stderr, "usage: %s CONNECTION-STRING\n", Arguments[0]);
		return 2;
	}
	PmmTest::FRecordingLiveLinkClient Client;
	UPmmtalkLiveLinkSourceFactory Factory;
	TSharedPtr<ILiveLinkSource> Source = Factory.CreateSource(FString(UTF8_TO_TCHAR(Arguments[1])));
	if (!Source.IsValid())
	{
		for (const std::string& Line : PmmStub::LogLines())
		{
			std::fprintf(stderr, "%s\n", Line.c_str());
		}
		return 2;
	}
	const FGuid Guid = Client.AddSource(Source);
	Source.Reset();  // the client owns it now, as in the engine
	if (!Client.GetSource(Guid)->IsSourceStillValid())
	{
		std::fprintf(stderr, "the source is not listening: %s\n", PmmTest::ToUtf8(Client.GetSource(Guid)->GetSourceStatus().ToString()).c_str());
		return 2;
	}
	Reply("READY");

	std::string Line;
	while (true)
	{
		pollfd Input{};
		Input.fd = 0;
		Input.events = POLLIN;
		if (std::cin.rdbuf()->in_avail() <= 0 && ::poll(&Input, 1, 5) == 0)
		{
			Client.Tick();  // the game thread ticks Live Link every frame
			continue;
		}
		if (!std::getline(std::cin, Line))
		{
			break;
		}
		std::istringstream Command(Line);
		std::string Verb;
		Command >> Verb;
		if (Verb == "wait-frames")
		{
			std::string Subject;
			size_t Count = 0;
			double Seconds = 0.0;
			Command >> Subject >> Count >> Seconds;
			const bool bReached = Client.WaitUntil([&]() { return Client.CountFrames(Subject) >= Count; }, Seconds);
			Reply(std::string(bReached ? "OK " : "TIMEOUT ") + std::to_string(Client.CountFrames(Subject)));
		}
		else if (Verb == "status")
		{
			Client.Tick();  // the status text is refreshed by Update, as the editor shows it after a tick
			TSharedPtr<ILiveLinkSource> Live = Client.GetSource(Guid);
			Reply("STATUS " + (Live.IsValid() ? PmmTest::ToUtf8(Live->GetSourceStatus().ToString()) : std::string("(removed)")));
		}
		else if (Verb == "edit")
		{
			std::string Text;
			std::getline(Command >> std::ws, Text);
			Client.EditSettings(Guid, [&](ULiveLinkSourceSettings& Settings) {
				FPmmtalkLiveLinkOptions& Options = Cast<UPmmtalkLiveLinkSourceSettings>(&Settings)->Options;
				Pmmtalk::FSourceConfig Config = PmmtalkLiveLink::ToSourceConfig(Options);
				const std::string Problem = Pmmtalk::ParseConnectionString(Text, Config);
				if (Problem.empty())
				{
					Options = PmmtalkLiveLink::ToOptions(Config);
				}
			});
			Reply("OK");
		}
		else if (Verb == "advance")
		{
			static double Offset = 0.0;
			double Seconds = 0.0;
			Command >> Seconds;
			Offset += Seconds;
			PmmStub::SetSecondsOffset(Offset);
			Client.Tick();
			Reply("OK");
		}
		else if (Verb == "dump")
		{
			std::string Path;
			Command >> Path;
			Dump(Client.Pushes(), Path);
			Reply("OK");
		}
		else if (Verb == "remove")
		{
			Client.RemoveSource(Guid);
			Reply("OK");
		}
		else if (Verb == "quit")
		{
			break;
		}
		else
		{
			Reply("ERROR unknown command " + Verb);
		}
	}
	const std::vector<std::string> Violations = Client.Violations();
	for (const std::string& Violation : Violations)
	{
		std::fprintf(stderr, "violation: %s\n", Violation.c_str());
	}
	return Violations.empty() ? 0 : 1;
}
