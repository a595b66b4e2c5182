Console.Error.WriteLine("load generator: not written yet");
return 2;
