// The receiving side of docs/protocol.md section 2.7 as a state machine with no engine in it: datagrams
// and clock ticks in, "push static data / push a frame / remove a subject" out. The Live Link source feeds
// it from its receiver thread (Receive) and the game thread (Tick) under one lock and turns each FPush
// into a Live Link call; the host checks drive it directly, with fixtures and a fuzzer.
//
// Per subject it keeps the known schemas (schema id -> names, fps; least recently used evicted), partial
// names assemblies, the names last pushed as static data, and the last accepted frame. Every container is
// bounded, so a hostile or broken sender costs a fixed amount of memory.
#pragma once

#include "PmmtalkConnection.h"
#include "PmmtalkCurves.h"
#include "PmmtalkOsc.h"
#include "PmmtalkWire.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Pmmtalk
{

constexpr size_t MaxSubjects = 64;
constexpr size_t MaxSchemasPerSubject = 16;
constexpr size_t MaxAssembliesPerSubject = 4;
/** Most curves in one schema: far above what fits a 1472-byte frame (282), bounding a names assembly. */
constexpr int32_t MaxCurves = 1024;
/** A quiet subject's last frame is re-pushed this often, so Live Link does not mark it unresponsive. */
constexpr double KeepAlivePeriodSeconds = 0.25;
/** A frame after this long a silence is accepted whatever its number (section 2.7, Order). */
constexpr double QuietRestartSeconds = 1.0;
/** A frame this far behind the last one (in seconds of frames) is a restarted daemon, not a late frame. */
constexpr double RestartWindowSeconds = 2.0;
constexpr size_t MaxLogOnceKeys = 256;
/** Two frames of one subject are at least this far apart in source time (Live Link orders frames by it). */
constexpr double MinSourceStepSeconds = 1.0e-6;

/** What the receiver needs of a source's configuration. */
struct FReceiverSettings
{
	/** Subjects to receive (compared ignoring case); empty receives every subject. */
	std::vector<std::string> Subjects;
	bool bKeepAlive = true;
	/** Quiet this long, the kept-alive frame turns neutral (all 0); 0 holds the last pose for ever. */
	double NeutralAfterSeconds = 0.0;
	bool bReceiveVmc = false;
	std::string VmcSubject = std::string(DefaultVmcSubject);

	static FReceiverSettings FromConfig(const FSourceConfig& Config)
	{
		FReceiverSettings Settings;
		Settings.Subjects = SplitSubjects(Config.Subjects);
		Settings.bKeepAlive = Config.bKeepAlive;
		Settings.NeutralAfterSeconds = double(Config.NeutralAfterMs) / 1000.0;
		Settings.bReceiveVmc = Config.bReceiveVmc;
		Settings.VmcSubject = Config.VmcSubject;
		return Settings;
	}
};

enum class EPushKind : uint8_t
{
	StaticData,     // Basic role, PropertyNames = Names
	FrameData,      // PropertyValues = Values, in the order of the subject's last static data
	RemoveSubject,  // the subject is no longer received (the subject filter changed)
};

/** One thing to tell Live Link, in order. */
struct FPush
{
	EPushKind Kind = EPushKind::FrameData;
	std::string Subject;
	std::vector<std::string> Names;
	std::vector<float> Values;
	int32_t FrameNumber = 0;
	FFrameRateRatio Rate;
	/** The frame's capture time from its timetag (section 2.4); false for keep-alive and VMC frames. */
	bool bHasSenderTime = false;
	double SenderUnixSeconds = 0.0;
	/**
	 * The frame's time on its subject's one clock, the sender's (Unix seconds): the sender time when there
	 * is one, else the subject's last time run on by the local time since. It only grows within a subject,
	 * so Live Link, which orders a subject's frames by it, keeps them in arrival order.
	 */
	double SourceUnixSeconds = 0.0;
	/** A re-push of the last (or a neutral) frame while the stream is quiet. */
	bool bKeepAlive = false;
};

struct FReceiverOutput
{
	std::vector<FPush> Pushes;
	/** Lines worth one log entry each (a sender speaking another protocol version, once per subject). */
	std::vector<std::string> Logs;

	void Clear()
	{
		Pushes.clear();
		Logs.clear();
	}
};

struct FReceiverCounters
{
	uint64_t Datagrams = 0;
	uint64_t Frames = 0;          // frames from the wire, pushed
	uint64_t KeepAlives = 0;      // frames re-pushed while quiet
	uint64_t StaticPushes = 0;
	// Dropped, by reason:
	uint64_t Malformed = 0;       // not OSC, truncated, bad padding or type tags, bad subject
	uint64_t WrongVersion = 0;    // a protocol version this plugin does not speak
	uint64_t UnknownSchema = 0;   // a frame before its names (they come within about a second)
	uint64_t WrongCount = 0;      // a frame whose value count differs from its schema's name count
	uint64_t OutOfOrder = 0;      // a duplicate or late frame
	uint64_t BadNames = 0;        // a names part that contradicts itself or its schema id
	uint64_t Filtered = 0;        // a subject the subject filter does not list
	uint64_t TooManySubjects = 0;
	uint64_t Ignored = 0;         // addresses this plugin does not read (not counted as dropped)

	uint64_t Dropped() const
	{
		return Malformed + WrongVersion + UnknownSchema + WrongCount + OutOfOrder + BadNames + Filtered
			+ TooManySubjects;
	}
};

class FReceiver
{
public:
	explicit FReceiver(FReceiverSettings InSettings = FReceiverSettings())
		: Settings(std::move(InSettings))
	{
	}

	const FReceiverSettings& GetSettings() const { return Settings; }
	const FReceiverCounters& Counters() const { return Count; }
	/** The latest reason something was dropped, for the source's status text; empty if nothing was. */
	const std::string& LastProblem() const { return Problem; }
	size_t NumSubjects() const { return Subjects.size(); }

	/** Subjects with a frame from the wire in the last WithinSeconds. */
	size_t NumLiveSubjects(double NowSeconds, double WithinSeconds) const
	{
		size_t Live = 0;
		for (const FSubject& Subject : Subjects)
		{
			Live += (Subject.bHasFrame && NowSeconds - Subject.LastArrivalSeconds < WithinSeconds) ? 1 : 0;
		}
		return Live;
	}

	/**
	 * Static data with the 61 Live Link Face names for the subjects expected before any packet: those of
	 * the subject filter, or the daemon's default subject when there is no filter, and the VMC subject
	 * when VMC is received. So a MetaHuman's face-subject dropdown lists them at once. Subjects already
	 * known are left alone.
	 */
	void Announce(FReceiverOutput& Out)
	{
		std::vector<std::string> Expected = Settings.Subjects;
		if (Expected.empty())
		{
			Expected.emplace_back(DefaultSubject);
		}
		if (Settings.bReceiveVmc)
		{
			Expected.push_back(Settings.VmcSubject);
		}
		for (const std::string& Name : Expected)
		{
			if (!IsValidSubject(Name) || FindSubject(Name) != nullptr)
			{
				continue;
			}
			FSubject* Subject = AddSubject(Name);
			if (Subject != nullptr)
			{
				PushStatic(*Subject, DefaultCurveNames(), Out);
			}
		}
	}

	/**
	 * New settings: subjects the new filter no longer lists are removed (a RemoveSubject push each),
	 * newly expected ones announced.
	 */
	void SetSettings(FReceiverSettings InSettings, FReceiverOutput& Out)
	{
		Settings = std::move(InSettings);
		for (size_t Index = Subjects.size(); Index-- > 0;)
		{
			if (!Accepts(Subjects[Index].Name))
			{
				FPush Push;
				Push.Kind = EPushKind::RemoveSubject;
				Push.Subject = Subjects[Index].Name;
				Out.Pushes.push_back(std::move(Push));
				Subjects.erase(Subjects.begin() + std::ptrdiff_t(Index));
			}
		}
		Announce(Out);
	}

	/**
	 * One datagram as it arrived. NowSeconds: a monotonic clock (quiet times, source times of frames
	 * without a timetag); NowUnixSeconds: the wall clock (the NTP era of timetags; the first source time
	 * of a subject whose frames have none).
	 */
	void Receive(const uint8_t* Data, size_t Size, double NowSeconds, double NowUnixSeconds, FReceiverOutput& Out)
	{
		++Count.Datagrams;
		const Osc::EError Error = Osc::ParsePacket(Data, Size,
			[this, NowSeconds, NowUnixSeconds, &Out](const Osc::FMessage& Message)
			{
				OnMessage(Message, NowSeconds, NowUnixSeconds, Out);
			});
		if (Error != Osc::EError::None)
		{
			Drop(Count.Malformed, std::string("malformed datagram: ") + Osc::ErrorText(Error));
		}
	}

	/** The game thread's tick: keep quiet subjects alive (their last frame, or a neutral one), on their clock. */
	void Tick(double NowSeconds, FReceiverOutput& Out)
	{
		if (!Settings.bKeepAlive)
		{
			return;
		}
		for (FSubject& Subject : Subjects)
		{
			if (!Subject.bHasFrame || NowSeconds - Subject.LastArrivalSeconds < KeepAlivePeriodSeconds
				|| NowSeconds - Subject.LastPushSeconds < KeepAlivePeriodSeconds)
			{
				continue;
			}
			const bool bNeutral = Settings.NeutralAfterSeconds > 0.0
				&& NowSeconds - Subject.LastArrivalSeconds >= Settings.NeutralAfterSeconds;
			FPush Push;
			Push.Kind = EPushKind::FrameData;
			Push.Subject = Subject.Name;
			Push.Values = bNeutral ? std::vector<float>(Subject.LastValues.size(), 0.0f) : Subject.LastValues;
			Push.FrameNumber = Subject.LastFrameNumber;
			Push.Rate = Subject.LastRate;
			Push.bKeepAlive = true;
			StampSourceTime(Subject, Push, ContinuedSourceTime(Subject, NowSeconds), NowSeconds);
			Out.Pushes.push_back(std::move(Push));
			++Count.KeepAlives;
		}
	}

private:
	struct FSchema
	{
		int32_t Id = 0;
		std::vector<std::string> Names;  // normalised
		std::vector<bool> IsRotation;
		float Fps = 60.0f;
		uint64_t UseStamp = 0;
	};

	struct FAssembly
	{
		int32_t Id = 0;
		int32_t NameCount = 0;
		int32_t PartCount = 0;
		std::vector<std::string> Slots;  // as sent (the schema id is computed over these)
		std::vector<bool> Filled;
		size_t NumFilled = 0;
		uint64_t UseStamp = 0;
	};

	struct FSubject
	{
		std::string Name;  // first spelling seen; later spellings differing in case are this subject
		std::vector<FSchema> Schemas;
		std::vector<FAssembly> Assemblies;
		bool bStaticPushed = false;
		std::vector<std::string> PushedNames;
		bool bHasFrame = false;
		int32_t LastFrameNumber = 0;
		double LastArrivalSeconds = 0.0;
		double LastPushSeconds = 0.0;
		double LastSourceUnixSeconds = 0.0;  // the source time of the last frame pushed (set with bHasFrame)
		FFrameRateRatio LastRate;
		std::vector<float> LastValues;  // in PushedNames order, as pushed
		// VMC: names in first-seen order, their values, and the values since the last Apply.
		std::vector<std::string> VmcNames;
		std::vector<bool> VmcIsRotation;
		std::vector<float> VmcValues;
	};

	bool Accepts(std::string_view Subject) const
	{
		if (Settings.bReceiveVmc && EqualsIgnoreCase(Subject, Settings.VmcSubject))
		{
			return true;
		}
		if (Settings.Subjects.empty())
		{
			return true;
		}
		for (const std::string& Listed : Settings.Subjects)
		{
			if (EqualsIgnoreCase(Listed, Subject))
			{
				return true;
			}
		}
		return false;
	}

	FSubject* FindSubject(std::string_view Name)
	{
		for (FSubject& Subject : Subjects)
		{
			if (EqualsIgnoreCase(Subject.Name, Name))
			{
				return &Subject;
			}
		}
		return nullptr;
	}

	/** A new subject, or null when MaxSubjects are known and none of them is disposable. */
	FSubject* AddSubject(std::string_view Name)
	{
		if (Subjects.size() >= MaxSubjects)
		{
			// Make room by forgetting a subject Live Link never saw (names that never completed).
			for (size_t Index = 0; Index < Subjects.size(); ++Index)
			{
				if (!Subjects[Index].bStaticPushed && Subjects[Index].Schemas.empty())
				{
					Subjects.erase(Subjects.begin() + std::ptrdiff_t(Index));
					break;
				}
			}
			if (Subjects.size() >= MaxSubjects)
			{
				Drop(Count.TooManySubjects, "more than " + std::to_string(MaxSubjects)
					+ " subjects on one source: set a subject filter");
				return nullptr;
			}
		}
		Subjects.emplace_back();
		Subjects.back().Name = std::string(Name);
		return &Subjects.back();
	}

	void Drop(uint64_t& Counter, std::string Why)
	{
		++Counter;
		Problem = std::move(Why);
	}

	void LogOnce(const std::string& Key, const std::string& Line, FReceiverOutput& Out)
	{
		for (const std::string& Logged : LoggedKeys)
		{
			if (Logged == Key)
			{
				return;
			}
		}
		if (LoggedKeys.size() < MaxLogOnceKeys)
		{
			LoggedKeys.push_back(Key);
			Out.Logs.push_back(Line);
		}
	}

	void PushStatic(FSubject& Subject, const std::vector<std::string>& Names, FReceiverOutput& Out)
	{
		Subject.bStaticPushed = true;
		Subject.PushedNames = Names;
		FPush Push;
		Push.Kind = EPushKind::StaticData;
		Push.Subject = Subject.Name;
		Push.Names = Names;
		Out.Pushes.push_back(std::move(Push));
		++Count.StaticPushes;
	}

	/** A frame without a timetag: the subject's clock run on by the local time since its last push. */
	static double ContinuedSourceTime(const FSubject& Subject, double NowSeconds)
	{
		return Subject.LastSourceUnixSeconds + (NowSeconds - Subject.LastPushSeconds);
	}

	/** Gives Push its source time (Candidate, or just after the subject's last one) and records it. */
	static void StampSourceTime(FSubject& Subject, FPush& Push, double Candidate, double NowSeconds)
	{
		const double Last = Subject.LastSourceUnixSeconds;
		// (!(a > b) also catches a NaN candidate.)
		Push.SourceUnixSeconds = Subject.bHasFrame && !(Candidate > Last) ? Last + MinSourceStepSeconds : Candidate;
		Subject.LastSourceUnixSeconds = Push.SourceUnixSeconds;
		Subject.LastPushSeconds = NowSeconds;
	}

	/** NowUnixSeconds starts the clock of a subject whose first frame has no timetag. */
	void PushFrame(FSubject& Subject, FPush&& Push, double NowSeconds, double NowUnixSeconds, FReceiverOutput& Out)
	{
		const double Candidate = Push.bHasSenderTime ? Push.SenderUnixSeconds
			: Subject.bHasFrame                      ? ContinuedSourceTime(Subject, NowSeconds)
													 : NowUnixSeconds;
		StampSourceTime(Subject, Push, Candidate, NowSeconds);
		Subject.bHasFrame = true;
		Subject.LastFrameNumber = Push.FrameNumber;
		Subject.LastArrivalSeconds = NowSeconds;
		Subject.LastRate = Push.Rate;
		Subject.LastValues = Push.Values;
		Out.Pushes.push_back(std::move(Push));
		++Count.Frames;
	}

	void OnMessage(const Osc::FMessage& Message, double NowSeconds, double NowUnixSeconds, FReceiverOutput& Out)
	{
		if (Message.Address == FrameAddress)
		{
			OnFrame(Message, NowSeconds, NowUnixSeconds, Out);
		}
		else if (Message.Address == NamesAddress)
		{
			OnNames(Message, Out);
		}
		else if (Settings.bReceiveVmc && Message.Address == VmcBlendValueAddress)
		{
			OnVmcValue(Message);
		}
		else if (Settings.bReceiveVmc && Message.Address == VmcBlendApplyAddress)
		{
			OnVmcApply(NowSeconds, NowUnixSeconds, Out);
		}
		else
		{
			++Count.Ignored;
		}
	}

	/** The version and subject checks every /pmmtalk/ message goes through; false when it was dropped. */
	bool CheckHeader(EDecode Decoded, int32_t Version, std::string_view Subject, FReceiverOutput& Out)
	{
		if (Decoded == EDecode::WrongVersion)
		{
			const std::string Shown = IsValidSubject(Subject) ? std::string(Subject) : std::string("?");
			Drop(Count.WrongVersion, "subject " + Shown + " speaks protocol " + std::to_string(Version));
			LogOnce("version " + std::to_string(Version) + " " + Shown,
				"pmmtalk subject " + Shown + " speaks protocol " + std::to_string(Version) + ", this plugin speaks "
					+ std::to_string(ProtocolVersion) + ": update the plugin (or the daemon)",
				Out);
			return false;
		}
		if (Decoded != EDecode::Ok)
		{
			Drop(Count.Malformed, "a /pmmtalk/ message with the wrong type tags");
			return false;
		}
		if (!IsValidSubject(Subject))
		{
			Drop(Count.Malformed, "a message with an invalid subject name");
			return false;
		}
		if (!Accepts(Subject))
		{
			Drop(Count.Filtered, "subject " + std::string(Subject) + " is not in the subject filter");
			return false;
		}
		return true;
	}

	void OnNames(const Osc::FMessage& Message, FReceiverOutput& Out)
	{
		int32_t Version = 0;
		const EDecode Decoded = DecodeNames(Message, NamesScratch, Version);
		if (!CheckHeader(Decoded, Version, NamesScratch.Subject, Out))
		{
			return;
		}
		const FNamesPart& Part = NamesScratch;
		const std::string Subject(Part.Subject);
		const int64_t PartEnd = int64_t(Part.FirstNameIndex) + int64_t(Part.Names.size());
		const bool bShapeOk = Part.NameCount >= 0 && Part.NameCount <= MaxCurves
			&& Part.PartCount >= 1 && Part.PartCount <= (Part.NameCount > 0 ? Part.NameCount : 1)
			&& Part.PartIndex >= 0 && Part.PartIndex < Part.PartCount
			&& Part.FirstNameIndex >= 0 && PartEnd <= int64_t(Part.NameCount)
			&& std::isfinite(Part.Fps) && Part.Fps > 0.0f && Part.Fps <= 1000.0f;
		if (!bShapeOk)
		{
			Drop(Count.BadNames, "names for " + Subject + " with impossible counts, indices or fps");
			return;
		}
		for (const std::string_view Name : Part.Names)
		{
			if (!IsValidCurveName(Name))
			{
				Drop(Count.BadNames, "names for " + Subject + " with an empty, overlong or non-UTF-8 name");
				return;
			}
		}
		FSubject* Found = FindSubject(Part.Subject);
		FSubject* Target = Found != nullptr ? Found : AddSubject(Part.Subject);
		if (Target == nullptr)
		{
			return;
		}
		FSubject& State = *Target;
		++UseCounter;
		for (FSchema& Schema : State.Schemas)
		{
			if (Schema.Id == Part.SchemaId)
			{
				Schema.Fps = Part.Fps;  // a known schema: names repeat, only fps may change
				Schema.UseStamp = UseCounter;
				return;
			}
		}
		FAssembly* Assembly = nullptr;
		for (FAssembly& Candidate : State.Assemblies)
		{
			if (Candidate.Id == Part.SchemaId)
			{
				Assembly = &Candidate;
			}
		}
		if (Assembly != nullptr && (Assembly->NameCount != Part.NameCount || Assembly->PartCount != Part.PartCount))
		{
			Drop(Count.BadNames, "names parts for " + Subject + " disagree on the name or part count");
			return;
		}
		if (Assembly == nullptr)
		{
			if (State.Assemblies.size() >= MaxAssembliesPerSubject)
			{
				EraseLeastRecentlyUsed(State.Assemblies);
			}
			State.Assemblies.emplace_back();
			Assembly = &State.Assemblies.back();
			Assembly->Id = Part.SchemaId;
			Assembly->NameCount = Part.NameCount;
			Assembly->PartCount = Part.PartCount;
			Assembly->Slots.resize(size_t(Part.NameCount));
			Assembly->Filled.resize(size_t(Part.NameCount), false);
		}
		Assembly->UseStamp = UseCounter;
		for (size_t Offset = 0; Offset < Part.Names.size(); ++Offset)
		{
			const size_t Slot = size_t(Part.FirstNameIndex) + Offset;
			Assembly->Slots[Slot] = std::string(Part.Names[Offset]);
			if (!Assembly->Filled[Slot])
			{
				Assembly->Filled[Slot] = true;
				++Assembly->NumFilled;
			}
		}
		if (Assembly->NumFilled < Assembly->Slots.size())
		{
			return;  // more parts to come
		}
		FSchema Schema;
		const bool bComplete = CompleteSchema(*Assembly, Part.Fps, Schema, Subject);
		State.Assemblies.erase(State.Assemblies.begin() + (Assembly - State.Assemblies.data()));
		if (!bComplete)
		{
			return;
		}
		Schema.UseStamp = UseCounter;
		if (State.Schemas.size() >= MaxSchemasPerSubject)
		{
			EraseLeastRecentlyUsed(State.Schemas);
		}
		State.Schemas.push_back(std::move(Schema));
		if (!State.bStaticPushed)
		{
			// A subject seen for the first time shows up in Live Link at once, before its first frame.
			PushStatic(State, State.Schemas.back().Names, Out);
		}
	}

	/** Checks the assembled names against their schema id; normalises them. */
	bool CompleteSchema(const FAssembly& Assembly, float Fps, FSchema& Out, const std::string& Subject)
	{
		if (SchemaIdOf(Assembly.Slots) != Assembly.Id)
		{
			Drop(Count.BadNames, "names for " + Subject + " do not match their schema id");
			return false;
		}
		Out.Id = Assembly.Id;
		Out.Fps = Fps;
		Out.Names.reserve(Assembly.Slots.size());
		Out.IsRotation.reserve(Assembly.Slots.size());
		std::vector<std::string> Lowered;
		Lowered.reserve(Assembly.Slots.size());
		for (const std::string& Name : Assembly.Slots)
		{
			std::string Lower = LowerAscii(Name);
			for (const std::string& Seen : Lowered)
			{
				if (Seen == Lower)
				{
					Drop(Count.BadNames, "names for " + Subject + " repeat '" + Name + "' (names are matched ignoring case)");
					return false;
				}
			}
			Lowered.push_back(std::move(Lower));
			Out.Names.push_back(NormaliseCurveName(Name));
			Out.IsRotation.push_back(IsRotationCurve(Name));
		}
		return true;
	}

	void OnFrame(const Osc::FMessage& Message, double NowSeconds, double NowUnixSeconds, FReceiverOutput& Out)
	{
		int32_t Version = 0;
		const EDecode Decoded = DecodeFrame(Message, FrameScratch, Version);
		if (!CheckHeader(Decoded, Version, FrameScratch.Subject, Out))
		{
			return;
		}
		const FFrameMessage& Frame = FrameScratch;
		FSubject* State = FindSubject(Frame.Subject);
		const FSchema* Schema = nullptr;
		if (State != nullptr)
		{
			for (FSchema& Candidate : State->Schemas)
			{
				if (Candidate.Id == Frame.SchemaId)
				{
					Candidate.UseStamp = ++UseCounter;
					Schema = &Candidate;
				}
			}
		}
		if (State == nullptr || Schema == nullptr)
		{
			Drop(Count.UnknownSchema, "frames for " + std::string(Frame.Subject) + " before their names");
			return;
		}
		if (Frame.Values.size() != Schema->Names.size())
		{
			Drop(Count.WrongCount, "a frame for " + State->Name + " with " + std::to_string(Frame.Values.size())
				+ " values, its schema has " + std::to_string(Schema->Names.size()));
			return;
		}
		if (State->bHasFrame)
		{
			const int64_t Behind = int64_t(State->LastFrameNumber) - int64_t(Frame.FrameNumber);
			const bool bNewer = Behind < 0;
			const bool bRestarted = double(Behind) > RestartWindowSeconds * double(Schema->Fps);
			const bool bAfterSilence = NowSeconds - State->LastArrivalSeconds >= QuietRestartSeconds;
			if (!bNewer && !bRestarted && !bAfterSilence)
			{
				Drop(Count.OutOfOrder, "a late or repeated frame for " + State->Name);
				return;
			}
		}
		if (!State->bStaticPushed || State->PushedNames != Schema->Names)
		{
			PushStatic(*State, Schema->Names, Out);
		}
		FPush Push;
		Push.Kind = EPushKind::FrameData;
		Push.Subject = State->Name;
		Push.Values.resize(Frame.Values.size());
		for (size_t Index = 0; Index < Frame.Values.size(); ++Index)
		{
			Push.Values[Index] = SanitiseValue(Frame.Values[Index], Schema->IsRotation[Index]);
		}
		Push.FrameNumber = Frame.FrameNumber;
		Push.Rate = FrameRateRatio(Schema->Fps);
		Push.bHasSenderTime = TimeTagToUnixSeconds(Frame.TimeTag, NowUnixSeconds, Push.SenderUnixSeconds);
		PushFrame(*State, std::move(Push), NowSeconds, NowUnixSeconds, Out);
	}

	void OnVmcValue(const Osc::FMessage& Message)
	{
		std::string_view Name;
		float Value = 0.0f;
		if (!DecodeVmcBlendValue(Message, Name, Value) || !IsValidCurveName(Name))
		{
			Drop(Count.Malformed, "a VMC blend value that is not ,sf with a valid name");
			return;
		}
		for (std::pair<std::string, float>& Pending : VmcPending)
		{
			if (EqualsIgnoreCase(Pending.first, Name))
			{
				Pending.second = Value;
				return;
			}
		}
		if (VmcPending.size() < size_t(MaxCurves))
		{
			VmcPending.emplace_back(std::string(Name), Value);
		}
	}

	void OnVmcApply(double NowSeconds, double NowUnixSeconds, FReceiverOutput& Out)
	{
		if (VmcPending.empty() || !IsValidSubject(Settings.VmcSubject))
		{
			return;
		}
		FSubject* Found = FindSubject(Settings.VmcSubject);
		FSubject* Target = Found != nullptr ? Found : AddSubject(Settings.VmcSubject);
		if (Target == nullptr)
		{
			VmcPending.clear();
			return;
		}
		FSubject& State = *Target;
		for (const std::pair<std::string, float>& Pending : VmcPending)
		{
			size_t Index = 0;
			while (Index < State.VmcNames.size() && !EqualsIgnoreCase(State.VmcNames[Index], Pending.first))
			{
				++Index;
			}
			if (Index == State.VmcNames.size())
			{
				if (State.VmcNames.size() >= size_t(MaxCurves))
				{
					continue;
				}
				State.VmcNames.push_back(NormaliseCurveName(Pending.first));
				State.VmcIsRotation.push_back(IsRotationCurve(Pending.first));
				State.VmcValues.push_back(0.0f);
			}
			State.VmcValues[Index] = SanitiseValue(Pending.second, State.VmcIsRotation[Index]);
		}
		VmcPending.clear();
		if (!State.bStaticPushed || State.PushedNames != State.VmcNames)
		{
			PushStatic(State, State.VmcNames, Out);
		}
		FPush Push;
		Push.Kind = EPushKind::FrameData;
		Push.Subject = State.Name;
		Push.Values = State.VmcValues;
		Push.FrameNumber = State.bHasFrame ? State.LastFrameNumber + 1 : 0;
		PushFrame(State, std::move(Push), NowSeconds, NowUnixSeconds, Out);
	}

	template <typename ElementType>
	static void EraseLeastRecentlyUsed(std::vector<ElementType>& Elements)
	{
		size_t Oldest = 0;
		for (size_t Index = 1; Index < Elements.size(); ++Index)
		{
			if (Elements[Index].UseStamp < Elements[Oldest].UseStamp)
			{
				Oldest = Index;
			}
		}
		if (!Elements.empty())
		{
			Elements.erase(Elements.begin() + std::ptrdiff_t(Oldest));
		}
	}

	FReceiverSettings Settings;
	FReceiverCounters Count;
	std::string Problem;
	std::vector<FSubject> Subjects;
	std::vector<std::pair<std::string, float>> VmcPending;
	std::vector<std::string> LoggedKeys;
	uint64_t UseCounter = 0;
	// Reused between datagrams so that a steady stream allocates nothing for decoding.
	FNamesPart NamesScratch;
	FFrameMessage FrameScratch;
};

}  // namespace Pmmtalk
